import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.ts';
import type { WarehouseDb } from '../source/reader.ts';

// The app's bigint ids and counts fit comfortably in a JS number; strings would leak into every
// caller. Only the app's pool parses them so: a warehouse's bigint keys may exceed 2^53.
const parseDefault = pg.types.getTypeParser as (oid: number, format?: 'text' | 'binary') => (value: string) => unknown;
const appTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === (pg.types.builtins.INT8 as number) ? (value: string) => Number.parseInt(value, 10) : parseDefault(oid, format)) as typeof pg.types.getTypeParser,
};

export type AppDb = Kysely<Database>;

export function createPool(connectionString: string, max = 10, types?: typeof appTypes): pg.Pool {
  const pool = new pg.Pool({ connectionString, max, ...(types ? { types } : {}) });
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

export function createAppDb(connectionString: string, options: { max?: number } = {}): AppDb {
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: createPool(connectionString, options.max, appTypes) }) });
}

/** The marketer's warehouse: tables we do not own, so untyped. */
export function createWarehouseDb(connectionString: string): WarehouseDb {
  return new Kysely({ dialect: new PostgresDialect({ pool: createPool(connectionString) }) }) as WarehouseDb;
}
