import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PublicError } from '../../domain/public-error.ts';

/**
 * Where a files warehouse's root is, from its URL: a local folder (`file:///data/exports`,
 * `/data/exports`) or a prefix in object storage (`s3://bucket/prefix?endpoint=host:port&region=…
 * &url_style=path&use_ssl=false`, `gs://bucket/prefix` through Google's S3 interoperability).
 * Object storage credentials are read from the environment by reference, never from the URL.
 */

export interface LocalRoot {
  kind: 'local';
  /** absolute, ending with `/` */
  uri: string;
}

export interface ObjectRoot {
  kind: 's3' | 'gs';
  bucket: string;
  /** `s3://bucket/prefix/` (or `gs://…`), ending with `/` */
  uri: string;
  endpoint?: string;
  region?: string;
  urlStyle?: 'path' | 'vhost';
  useSsl?: boolean;
  /** the variables that hold the key, for messages and setup text */
  keyVariable: string;
  secretVariable: string;
  sessionTokenVariable: string;
}

export type FilesRoot = LocalRoot | ObjectRoot;

export interface ObjectCredentials {
  keyId?: string;
  secret?: string;
  sessionToken?: string;
}

/** The warehouse's URL is not one this engine can read; the message names the variable. */
export class FilesUrlError extends PublicError {
  override readonly name = 'FilesUrlError';
}

/** `WAREHOUSE_EXPORTS_URL` (or its `_FILE` form) → `WAREHOUSE_EXPORTS`: the prefix of the warehouse's other variables. */
export function variablePrefix(variable: string): string {
  const name = /^[A-Z0-9_]+/.exec(variable)?.[0] ?? 'WAREHOUSE';
  return name.replace(/_URL(?:_FILE)?$/, '');
}

const QUERY_KEYS = new Set(['endpoint', 'region', 'url_style', 'use_ssl']);

export function parseRoot(url: string, variable: string): FilesRoot {
  if (url.startsWith('/')) return { kind: 'local', uri: withSlash(resolve(url)) };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new FilesUrlError(`${variable}: not a valid URL (file:///folder, /folder, s3://bucket/prefix or gs://bucket/prefix)`);
  }
  const scheme = parsed.protocol.slice(0, -1).toLowerCase();
  if (scheme === 'file') {
    if (parsed.host !== '' && parsed.host !== 'localhost') throw new FilesUrlError(`${variable}: a file:// URL names a local folder (file:///data/exports), not a host`);
    return { kind: 'local', uri: withSlash(resolve(fileURLToPath(parsed))) };
  }
  if (scheme !== 's3' && scheme !== 'gs' && scheme !== 'gcs') throw new FilesUrlError(`${variable}: a files warehouse URL starts with file://, /, s3:// or gs://`);
  if (parsed.username !== '' || parsed.password !== '') {
    throw new FilesUrlError(`${variable}: object storage credentials go in ${variablePrefix(variable)}_S3_ACCESS_KEY_ID and _S3_SECRET_ACCESS_KEY, never in the URL`);
  }
  const bucket = parsed.hostname;
  if (!/^[a-z0-9][a-z0-9.-]{1,62}$/.test(bucket)) throw new FilesUrlError(`${variable}: '${bucket}' is not a bucket name`);
  const prefix = decodeURIComponent(parsed.pathname).replace(/^\/+/, '');
  // eslint-disable-next-line no-control-regex -- control characters are what this refuses
  if (prefix.split('/').includes('..') || /['\\\u0000-\u001f]/.test(prefix)) throw new FilesUrlError(`${variable}: the prefix may not hold '..', quotes, backslashes or control characters`);
  for (const key of parsed.searchParams.keys()) {
    if (!QUERY_KEYS.has(key)) throw new FilesUrlError(`${variable}: unknown option '${key}' (known: ${[...QUERY_KEYS].join(', ')})`);
  }
  const option = (key: string) => parsed.searchParams.get(key) ?? undefined;
  const kind = scheme === 's3' ? 's3' : 'gs';
  const urlStyle = option('url_style');
  if (urlStyle !== undefined && urlStyle !== 'path' && urlStyle !== 'vhost') throw new FilesUrlError(`${variable}: url_style is path or vhost`);
  const useSsl = option('use_ssl');
  if (useSsl !== undefined && useSsl !== 'true' && useSsl !== 'false') throw new FilesUrlError(`${variable}: use_ssl is true or false`);
  const endpoint = option('endpoint') ?? (kind === 'gs' ? 'storage.googleapis.com' : undefined);
  if (endpoint !== undefined && !/^[A-Za-z0-9.-]+(?::\d{1,5})?$/.test(endpoint)) throw new FilesUrlError(`${variable}: endpoint is host or host:port`);
  const region = option('region');
  if (region !== undefined && !/^[a-z0-9-]{1,40}$/.test(region)) throw new FilesUrlError(`${variable}: '${region}' is not a region name`);
  const names = variablePrefix(variable);
  return {
    kind,
    bucket,
    // gs:// is read through Google's S3 interoperability: the same requests, signed with HMAC keys.
    uri: `${kind}://${bucket}/${prefix === '' ? '' : withSlash(prefix)}`,
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(region === undefined ? {} : { region }),
    ...(urlStyle === undefined ? {} : { urlStyle }),
    ...(useSsl === undefined ? {} : { useSsl: useSsl === 'true' }),
    keyVariable: `${names}_S3_ACCESS_KEY_ID`,
    secretVariable: `${names}_S3_SECRET_ACCESS_KEY`,
    sessionTokenVariable: `${names}_S3_SESSION_TOKEN`,
  };
}

function withSlash(path: string): string {
  return path.endsWith('/') ? path : `${path}/`;
}

/** A credential variable's value, or that of its `_FILE` form (a mounted secret); undefined when neither is set. */
function credential(env: NodeJS.ProcessEnv, variable: string): string | undefined {
  const direct = env[variable]?.trim();
  if (direct) return direct;
  const file = env[`${variable}_FILE`]?.trim();
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new FilesUrlError(`${variable}_FILE names a file that cannot be read (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
}

/** The object storage keys of the environment; none means anonymous requests (a public bucket). */
export function objectCredentials(root: ObjectRoot, env: NodeJS.ProcessEnv): ObjectCredentials {
  const keyId = credential(env, root.keyVariable);
  const secret = credential(env, root.secretVariable);
  const sessionToken = credential(env, root.sessionTokenVariable);
  if ((keyId === undefined) !== (secret === undefined)) {
    throw new FilesUrlError(`set both ${root.keyVariable} and ${root.secretVariable} (or their _FILE forms), or neither for a public bucket`);
  }
  return { ...(keyId === undefined ? {} : { keyId }), ...(secret === undefined ? {} : { secret }), ...(sessionToken === undefined ? {} : { sessionToken }) };
}

/** A root-relative path (already validated by the configuration: no `..`, no quotes) joined to the root. */
export function underRoot(root: FilesRoot, path: string): string {
  return `${root.uri}${path.replace(/^\.\/+/, '').replace(/\/{2,}/g, '/')}`;
}

/** A path as the operator wrote it: relative to the root when it is under it. */
export function relativeToRoot(root: FilesRoot, path: string): string {
  return path.startsWith(root.uri) ? path.slice(root.uri.length) : path;
}
