import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.ts';

// The app's bigint ids and counts fit comfortably in a JS number; strings would leak into every
// caller. Only the app's pool parses them so: a warehouse's bigint keys may exceed 2^53.
const parseDefault = pg.types.getTypeParser as (oid: number, format?: 'text' | 'binary') => (value: string) => unknown;
const appTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === (pg.types.builtins.INT8 as number) ? (value: string) => Number.parseInt(value, 10) : parseDefault(oid, format)) as typeof pg.types.getTypeParser,
};

export type AppDb = Kysely<Database>;

/** The app's own database: the typed query builder, and its pool for the few things kysely does not drive (COPY). */
export interface AppDatabase {
  db: AppDb;
  pool: pg.Pool;
}

/** A database whose tables this app does not own (a warehouse, as its administrator sees it), so untyped. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type UntypedDb = Kysely<any>;

function createPool(connectionString: string, max: number, types?: typeof appTypes): pg.Pool {
  const pool = new pg.Pool({ connectionString, max, application_name: 'trustpilot-invitations', ...(types ? { types } : {}) });
  // An idle client losing its server (e.g. Postgres restarting) must not crash the process.
  pool.on('error', () => undefined);
  // Nor may a checked-out one: the pool listens on idle clients only, and a client emits 'error'
  // when its server goes away between queries (or its socket breaks). The client is then no longer
  // queryable: its next query fails (the activity retries) and the pool drops it on release.
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  return pool;
}

export function createAppDatabase(connectionString: string, options: { max?: number } = {}): AppDatabase {
  const pool = createPool(connectionString, options.max ?? 10, appTypes);
  return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), pool };
}

export function createAppDb(connectionString: string, options: { max?: number } = {}): AppDb {
  return createAppDatabase(connectionString, options).db;
}

export function createUntypedDb(connectionString: string, options: { max?: number } = {}): UntypedDb {
  return new Kysely({ dialect: new PostgresDialect({ pool: createPool(connectionString, options.max ?? 4) }) });
}
