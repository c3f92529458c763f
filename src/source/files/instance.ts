import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type * as DuckDbModule from '@duckdb/node-api';
import { ReadStopped } from '../errors.ts';
import type { ReadLimits, ReadProgress } from '../types.ts';
import { objectCredentials, type FilesRoot, type ObjectRoot } from './location.ts';

/**
 * Every read opens a DuckDB instance of its own, in memory, and closes it afterwards, so nothing a
 * query does outlives it. Before any query of the segment runs, the instance is locked down by
 * DuckDB's own settings, which the query cannot change (`lock_configuration`):
 *
 * - files only under the root (`allowed_directories`, `enable_external_access = false`): any other
 *   path, and any relative one, is refused by DuckDB itself; for object storage the local file
 *   system is disabled altogether;
 * - no extension is installed or autoloaded, none from the community; httpfs is loaded from its
 *   signed file only for an s3:// or gs:// root, before the lock;
 * - bounded: one thread, a memory limit, no temporary files (nothing spills to disk);
 * - secrets live in the instance's memory only, scoped to the root, and are never persisted.
 */

/** DuckDB's own limit on what one read may hold in memory; a query needing more fails, saying so. */
export const MEMORY_LIMIT = '128MB';
const THREADS = '1';
/** A read that has not ended this long after its statement timeout (a hung request) is given up. */
const DEFAULT_CLIENT_MARGIN_MS = 10_000;

/** The checkout's `.tools/duckdb-extensions` (what `npm run setup` fills), from src/ or dist/ alike. */
const CHECKOUT_EXTENSIONS = resolve(import.meta.dirname, '..', '..', '..', '.tools', 'duckdb-extensions');

export function extensionDirectory(env: NodeJS.ProcessEnv): string {
  return env.DUCKDB_EXTENSION_DIRECTORY?.trim() || CHECKOUT_EXTENSIONS;
}

/** The read took longer than the activation's statement timeout: DuckDB was interrupted. */
export class FilesReadTimeout extends ReadStopped {
  override readonly name = 'FilesReadTimeout';
  constructor(readonly timeoutMs: number) {
    super(`reading the files took longer than the statement timeout of ${Math.round(timeoutMs / 1000)}s`, 'permanent');
  }
}

/** The read did not stop when it was interrupted (a request that hangs): it was abandoned. */
export class FilesReadAbandoned extends ReadStopped {
  override readonly name = 'FilesReadAbandoned';
  constructor(waitedMs: number) {
    super(
      `the files engine did not answer within ${Math.round(waitedMs / 1000)}s, its statement timeout plus a margin: the read was abandoned (object storage that stopped answering?)`,
      'transient',
    );
  }
}

/** httpfs, needed for s3:// and gs://, is not where the worker looks for it. */
export class ExtensionMissing extends ReadStopped {
  override readonly name = 'ExtensionMissing';
  constructor(directory: string) {
    super(
      `DuckDB's httpfs extension (for s3:// and gs:// warehouses) is not installed in ${directory}: run \`npm run setup\`, or set DUCKDB_EXTENSION_DIRECTORY to the folder that holds v1.4.4/<platform>/httpfs.duckdb_extension`,
      'permanent',
    );
  }
}

export interface EngineSettings {
  root: FilesRoot;
  env: NodeJS.ProcessEnv;
  clientMarginMs?: number;
}

export interface FilesSession {
  connection: DuckDBConnection;
  /** counts bytes handed on and marks activity (heartbeats) */
  report(bytes: number, waiting: boolean): void;
}

type DuckDb = typeof DuckDbModule;
type DuckDBConnection = DuckDbModule.DuckDBConnection;
type DuckDBInstance = DuckDbModule.DuckDBInstance;
let loaded: Promise<DuckDb> | undefined;

/** DuckDB is loaded on first use only: processes that never read files never load it. */
export function duckdb(): Promise<DuckDb> {
  loaded ??= import('@duckdb/node-api');
  return loaded;
}

function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

async function createLocked(settings: EngineSettings): Promise<{ instance: DuckDBInstance; connection: DuckDBConnection }> {
  const { DuckDBInstance } = await duckdb();
  const { root } = settings;
  const directory = extensionDirectory(settings.env);
  const instance = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
    allow_community_extensions: 'false',
    allow_unsigned_extensions: 'false',
    allow_persistent_secrets: 'false',
    extension_directory: directory,
    threads: THREADS,
    memory_limit: MEMORY_LIMIT,
    temp_directory: '',
  });
  let connection: DuckDBConnection | undefined;
  try {
    connection = await instance.connect();
    const statements = [`SET TimeZone = 'UTC'`];
    if (root.kind !== 'local') {
      if (!existsSync(directory)) throw new ExtensionMissing(directory);
      try {
        await connection.run('LOAD httpfs');
      } catch {
        throw new ExtensionMissing(directory);
      }
      statements.push(secretStatement(root, settings.env), `SET disabled_filesystems = 'LocalFileSystem'`);
    }
    statements.push(`SET allowed_directories = [${literal(root.uri)}]`, 'SET enable_external_access = false', 'SET lock_configuration = true');
    for (const statement of statements) await connection.run(statement);
    return { instance, connection };
  } catch (error) {
    connection?.closeSync();
    instance.closeSync();
    throw error;
  }
}

function secretStatement(root: ObjectRoot, env: NodeJS.ProcessEnv): string {
  const credentials = objectCredentials(root, env);
  const options = [
    `TYPE ${root.kind === 'gs' ? 'gcs' : 's3'}`,
    `SCOPE ${literal(root.uri)}`,
    ...(credentials.keyId === undefined ? [] : [`KEY_ID ${literal(credentials.keyId)}`]),
    ...(credentials.secret === undefined ? [] : [`SECRET ${literal(credentials.secret)}`]),
    ...(credentials.sessionToken === undefined ? [] : [`SESSION_TOKEN ${literal(credentials.sessionToken)}`]),
    ...(root.region === undefined ? [] : [`REGION ${literal(root.region)}`]),
    ...(root.endpoint === undefined ? [] : [`ENDPOINT ${literal(root.endpoint)}`]),
    ...(root.urlStyle === undefined ? [] : [`URL_STYLE ${literal(root.urlStyle)}`]),
    ...(root.useSsl === undefined ? [] : [`USE_SSL ${root.useSsl}`]),
  ];
  return `CREATE TEMPORARY SECRET tpi_root (${options.join(', ')})`;
}

/**
 * Runs `work` on a fresh, locked-down instance under the activation's statement timeout: DuckDB is
 * interrupted when it passes, and a read still going `clientMarginMs` later is abandoned.
 */
export async function withDuckDb<T>(
  settings: EngineSettings,
  limits: ReadLimits,
  work: (session: FilesSession) => Promise<T>,
  onProgress?: (progress: ReadProgress) => void,
): Promise<T> {
  const timeoutMs = Math.max(1, Math.round(limits.statementTimeoutMs));
  const marginMs = settings.clientMarginMs ?? DEFAULT_CLIENT_MARGIN_MS;
  const progress: ReadProgress = { bytes: 0, lastActivityAt: Date.now(), waiting: true };
  const report = (bytes: number, waiting: boolean) => {
    progress.bytes += bytes;
    progress.waiting = waiting;
    progress.lastActivityAt = Date.now();
    onProgress?.(progress);
  };
  report(0, true);
  let interrupted = false;
  let abandoned = false;
  let opened: { instance: DuckDBInstance; connection: DuckDBConnection } | undefined;
  let abandonTimer: NodeJS.Timeout | undefined;
  const interruptTimer = setTimeout(() => {
    interrupted = true;
    opened?.connection.interrupt();
  }, timeoutMs);
  const giveUp = new Promise<never>((_resolve, reject) => {
    abandonTimer = setTimeout(() => {
      abandoned = true;
      reject(new FilesReadAbandoned(timeoutMs + marginMs));
    }, timeoutMs + marginMs);
  });
  giveUp.catch(() => undefined);
  const attempt = (async () => {
    opened = await createLocked(settings);
    if (interrupted) throw new FilesReadTimeout(timeoutMs);
    try {
      return await work({ connection: opened.connection, report });
    } catch (error) {
      throw interrupted ? new FilesReadTimeout(timeoutMs) : error;
    }
  })();
  try {
    return await Promise.race([attempt, giveUp]);
  } finally {
    clearTimeout(interruptTimer);
    clearTimeout(abandonTimer);
    report(0, false);
    const close = () => {
      opened?.connection.closeSync();
      opened?.instance.closeSync();
    };
    // An abandoned read may still be inside DuckDB: its instance is closed once it comes back.
    if (abandoned) void attempt.then(close, close);
    else close();
  }
}
