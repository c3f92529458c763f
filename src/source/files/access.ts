import { constants, existsSync } from 'node:fs';
import { access, opendir, realpath, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { AccessRefused, ReadStopped } from '../errors.ts';
import type { AccessReport, ActivationSource } from '../types.ts';
import { extensionDirectory } from './instance.ts';
import type { FilesRoot, ObjectRoot } from './location.ts';

/**
 * What a files warehouse's reader may reach: everything under its root, nothing else (DuckDB
 * enforces that on every read). So the root itself must be no more than the segments' files: a
 * root that holds the machine's system folders (`/proc/self/environ` holds the worker's
 * credentials) or the product's own files is refused, at start, at validate and apply, and before
 * every read.
 */

const SYSTEM_FOLDERS = ['/etc', '/proc', '/sys', '/dev', '/root', '/home', '/var', '/usr', '/boot', '/run'];

/** The local root does not exist or cannot be read: nothing can be read from it. */
export class RootUnreadable extends ReadStopped {
  override readonly name = 'RootUnreadable';
  constructor(root: string, variable: string, code: string) {
    super(`the warehouse's root ${root} cannot be read (${code}): check ${variable} and that the folder is mounted and readable by the worker`, 'permanent');
  }
}

function isInside(path: string, folder: string): boolean {
  const withSlash = folder.endsWith('/') ? folder : `${folder}/`;
  return path === folder || path.startsWith(withSlash);
}

/** Why a local root reaches more than the segments' files; empty when it does not. */
export function rootProblems(root: FilesRoot, ownFolders: readonly string[]): string[] {
  if (root.kind !== 'local') return [];
  const problems: string[] = [];
  const folder = root.uri.replace(/\/$/, '') || '/';
  const system = SYSTEM_FOLDERS.filter((system) => isInside(system, folder));
  if (folder === '/' || system.length > 0) {
    problems.push(`the root ${root.uri} holds system folders (${(folder === '/' ? ['/etc', '/proc'] : system).join(', ')}): segments could read the machine's files, /proc/self/environ (the worker's credentials) among them`);
  }
  const own = ownFolders.filter((own) => isInside(own, folder));
  if (own.length > 0) problems.push(`the root ${root.uri} holds the product's own files (${own.join(', ')}): segments could read its configuration and data`);
  return problems;
}

/** Entries looked at for links leaving the root before a read; a larger export is checked this far. */
const LINK_WALK_LIMIT = 100_000;

/**
 * DuckDB confines reads to the root by path, and follows symbolic links: a link under the root that
 * leads outside it (to /etc, to the product's checkout) would be read. Such a link, or a root that is
 * itself a link to a folder it must not be, is refused before the read.
 */
async function linksLeavingRoot(folder: string, realRoot: string): Promise<string[]> {
  const leaving: string[] = [];
  const pending = [folder];
  let seen = 0;
  while (pending.length > 0 && seen < LINK_WALK_LIMIT && leaving.length < 3) {
    const current = pending.pop() as string;
    let dir;
    try {
      dir = await opendir(current);
    } catch {
      continue;
    }
    for await (const entry of dir) {
      seen += 1;
      const path = join(current, entry.name);
      if (entry.isDirectory()) pending.push(path);
      else if (entry.isSymbolicLink()) {
        const target = await realpath(path).catch(() => undefined);
        if (target !== undefined && !isInside(target, realRoot)) leaving.push(relative(folder, path));
      }
      if (seen >= LINK_WALK_LIMIT) break;
    }
  }
  return leaving;
}

/** Checked before every read of a local root: it exists, can be read, and reaches no more than it should. */
export async function guardRoot(root: FilesRoot, variable: string, ownFolders: readonly string[]): Promise<void> {
  if (root.kind !== 'local') return;
  const refuse = (problems: string[]) => new AccessRefused(problems.join('; '), problems, `${problems.join('; ')}; point ${variable} at a folder that holds only the exports segments read`);
  const problems = rootProblems(root, ownFolders);
  if (problems.length > 0) throw refuse(problems);
  let realRoot: string;
  try {
    const info = await stat(root.uri);
    if (!info.isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
    await access(root.uri, constants.R_OK | constants.X_OK);
    realRoot = await realpath(root.uri);
  } catch (error) {
    throw new RootUnreadable(root.uri, variable, (error as NodeJS.ErrnoException).code ?? 'unreadable');
  }
  const resolved = rootProblems({ ...root, uri: `${realRoot.replace(/\/$/, '')}/` }, ownFolders);
  if (resolved.length > 0) throw refuse(resolved.map((problem) => `${problem} (${root.uri} is a link to ${realRoot})`));
  const leaving = await linksLeavingRoot(root.uri, realRoot);
  if (leaving.length > 0) {
    throw refuse([`the root ${root.uri} holds symbolic links that lead outside it (${leaving.join(', ')}): segments could read what they point to`]);
  }
}

export function accessReport(root: FilesRoot, env: NodeJS.ProcessEnv, variable: string, ownFolders: readonly string[]): AccessReport {
  const problems = rootProblems(root, ownFolders);
  if (root.kind !== 'local') {
    const directory = extensionDirectory(env);
    if (!existsSync(directory)) {
      problems.push(`DuckDB's httpfs extension, which reads ${root.kind}:// files, is not installed in ${directory}: run \`npm run setup\` or set DUCKDB_EXTENSION_DIRECTORY`);
    }
  }
  return {
    identity: root.uri,
    location: root.kind === 'local' ? 'the local file system' : `object storage (${root.kind}://, ${variable})`,
    problems,
    findings: problems.map((problem) => ({ problem, fix: [`# point ${variable} at a folder or prefix that holds only the exports segments read`] })),
  };
}

function objectSetup(root: ObjectRoot, name: string, variable: string, sources: readonly ActivationSource[]): string {
  const prefix = root.uri.slice(`${root.kind}://${root.bucket}/`.length);
  const read = sources.length > 0 ? `# activations: ${sources.map((source) => source.id).join(', ')}\n` : '';
  if (root.kind === 'gs') {
    return `${read}# Warehouse '${name}' reads ${root.uri} through Google Cloud Storage's S3 interoperability (HMAC keys).
# A service account that may only read the bucket, and an HMAC key for it:
gcloud iam service-accounts create trustpilot-segment-reader
gcloud storage buckets add-iam-policy-binding gs://${root.bucket} --member=serviceAccount:trustpilot-segment-reader@<project>.iam.gserviceaccount.com --role=roles/storage.objectViewer
gcloud storage hmac create trustpilot-segment-reader@<project>.iam.gserviceaccount.com
# then, in the worker's environment (or their _FILE forms):
${variable}=${root.uri}
${root.keyVariable}=<the HMAC access id>
${root.secretVariable}=<the HMAC secret>`;
  }
  const policy = {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: ['s3:ListBucket'], Resource: `arn:aws:s3:::${root.bucket}`, Condition: { StringLike: { 's3:prefix': [`${prefix}*`] } } },
      { Effect: 'Allow', Action: ['s3:GetObject'], Resource: `arn:aws:s3:::${root.bucket}/${prefix}*` },
    ],
  };
  return `${read}# Warehouse '${name}' reads ${root.uri}. Give its reader (an IAM user or role of its own) only this policy:
${JSON.stringify(policy, null, 2)}
# then, in the worker's environment (or their _FILE forms):
${variable}=${root.uri}${root.endpoint === undefined ? '' : `?endpoint=${root.endpoint}`}
${root.keyVariable}=<access key id>
${root.secretVariable}=<secret access key>`;
}

/** What to set up so that the worker reads the root and nothing more: a read-only mount, or a read-only bucket policy. */
export function setupText(root: FilesRoot, name: string, variable: string, sources: readonly ActivationSource[]): string {
  if (root.kind !== 'local') return objectSetup(root, name, variable, sources);
  const read = sources.length > 0 ? `# activations: ${sources.map((source) => source.id).join(', ')}\n` : '';
  return `${read}# Warehouse '${name}' reads the files under ${root.uri}: a folder that holds only the exports segments read.
# Mount it read-only for the worker, e.g. with Docker or Kubernetes:
docker run … --volume /srv/exports:${root.uri.replace(/\/$/, '')}:ro …
#   (Kubernetes: a volumeMount with readOnly: true)
# or, on the host, let the worker's user read it and no more:
chmod -R a-w,a+rX ${root.uri}
# then, in the worker's environment:
${variable}=file://${root.uri.replace(/\/$/, '')}`;
}
