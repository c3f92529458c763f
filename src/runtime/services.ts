import { Client, Connection } from '@temporalio/client';
import { sql } from 'kysely';
import type pg from 'pg';
import type { ActivityDeps } from '../activities/index.ts';
import type { AppEnv } from '../config/env.ts';
import { setPausedNote } from '../db/config-store.ts';
import { createAppDatabase, type AppDb } from '../db/database.ts';
import { migrateToLatest } from '../db/migrate.ts';
import type { ScanLimits } from '../detection/scan-session.ts';
import { PublicError } from '../domain/public-error.ts';
import { accessRefusalText } from '../source/access.ts';
import { Warehouses, warehouseConfigsFrom, whereOf } from '../source/warehouses.ts';
import { isWorkflowOpen } from '../temporal/executions.ts';
import { setSchedulePaused } from '../temporal/schedules.ts';

/** A variable of the environment does not lead where it should; the message names it. */
export class StartupError extends PublicError {
  override readonly name = 'StartupError';
}

export const TEMPORAL_CONNECT_TIMEOUT_MS = 5_000;

/** Everything a process of the app talks to, opened once and closed together. */
export interface Services {
  db: AppDb;
  appPool: pg.Pool;
  /** the warehouses segments are read from, by name */
  warehouses: Warehouses;
  temporal: Client;
  connection: Connection;
  close(): Promise<void>;
}

export function requireDatabaseUrl(env: AppEnv): string {
  if (!env.DATABASE_URL) {
    throw new StartupError('DATABASE_URL is not set. While `npm start` runs, the CLI finds its database by itself; otherwise set DATABASE_URL (and WAREHOUSE_DATABASE_URL, TEMPORAL_ADDRESS)');
  }
  return env.DATABASE_URL;
}

function where(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.username ? `${decodeURIComponent(parsed.username)}@` : ''}${parsed.host}${parsed.pathname}`;
  } catch {
    return 'an unparsable URL';
  }
}

/** Why a connection attempt failed, in words that name the server and never a password. */
function connectionProblem(error: unknown): string {
  if (error instanceof Error) {
    const code = 'code' in error && typeof error.code === 'string' ? ` (${error.code})` : '';
    return `${error.message.replace(/postgres(ql)?:\/\/\S+/g, '<url>')}${code}`;
  }
  return String(error);
}

/** Checks the app database answers; returns the role the app uses there (a warehouse role must never be, or reach, it). */
export async function checkAppDatabase(db: AppDb, url: string): Promise<string> {
  try {
    const result = await sql<{ role: string }>`select current_user as role`.execute(db);
    return result.rows[0]?.role ?? '';
  } catch (error) {
    throw new StartupError(`DATABASE_URL: cannot use the app database at ${where(url)}: ${connectionProblem(error)}`);
  }
}

/** Connects to every configured warehouse as its reader and refuses one that may do more than read. */
export async function checkWarehouses(warehouses: Warehouses): Promise<void> {
  for (const name of warehouses.names()) {
    const variable = warehouses.configOf(name)?.variable ?? name;
    let source;
    try {
      source = warehouses.get(name);
    } catch (error) {
      if (error instanceof PublicError) throw new StartupError(error.message);
      throw error;
    }
    let report;
    try {
      report = await source.checkAccess();
    } catch (error) {
      const where = whereOf(warehouses.configOf(name)?.url ?? '');
      if (error instanceof PublicError) throw new StartupError(`${variable}: ${error.message}`);
      throw new StartupError(`${variable}: cannot connect to the warehouse at ${where}: ${connectionProblem(error)}`);
    }
    if (report.problems.length > 0) throw new StartupError(`${variable}: ${accessRefusalText(source, report)}`);
  }
}

export async function connectTemporal(env: AppEnv): Promise<Connection> {
  const address = env.TEMPORAL_ADDRESS ?? 'localhost:7233';
  try {
    return await Connection.connect({ address, connectTimeout: TEMPORAL_CONNECT_TIMEOUT_MS });
  } catch (error) {
    throw new StartupError(
      `TEMPORAL_ADDRESS=${address}: cannot reach the Temporal frontend within ${TEMPORAL_CONNECT_TIMEOUT_MS / 1000}s (is the server running and the address right?): ${connectionProblem(error)}`,
    );
  }
}

export interface OpenOptions {
  /** run pending migrations (workers and dev mode; read-only commands do not) */
  migrate?: boolean;
  /** check that the warehouse connection is a least-privilege reader (workers, validate, apply) */
  checkReader?: boolean;
}

export async function openServices(env: AppEnv, options: OpenOptions = {}): Promise<Services> {
  const databaseUrl = requireDatabaseUrl(env);
  const { db, pool } = createAppDatabase(databaseUrl, { max: env.DATABASE_POOL_SIZE });
  let connection: Connection | undefined;
  let warehouses: Warehouses | undefined;
  try {
    const appRole = await checkAppDatabase(db, databaseUrl);
    // The warehouses by reference from the process's own environment (WAREHOUSE_<NAME>_URL are not in AppEnv).
    warehouses = new Warehouses(warehouseConfigsFrom({ ...process.env, ...(env.WAREHOUSE_DATABASE_URL ? { WAREHOUSE_DATABASE_URL: env.WAREHOUSE_DATABASE_URL } : {}) }, databaseUrl), {
      appRole,
      env: process.env,
    });
    if (options.migrate) await migrateToLatest(db);
    if (options.checkReader) await checkWarehouses(warehouses);
    connection = await connectTemporal(env);
    const temporal = new Client({ connection, namespace: env.TEMPORAL_NAMESPACE });
    const openConnection = connection;
    const openWarehouses = warehouses;
    return {
      db,
      appPool: pool,
      warehouses,
      temporal,
      connection,
      async close() {
        await openConnection.close();
        await openWarehouses.close();
        await db.destroy();
      },
    };
  } catch (error) {
    await connection?.close();
    await warehouses?.close();
    await db.destroy();
    throw error;
  }
}

/** What one scan may take from the app database, as the operator set it. */
export function scanLimitsOf(env: AppEnv): ScanLimits {
  return { maxRows: env.SCAN_MAX_ROWS, maxBytes: env.SCAN_MAX_BYTES, tempFileLimit: env.SCAN_TEMP_FILE_LIMIT };
}

export function activityDepsFor(services: Services, env: AppEnv): ActivityDeps {
  return {
    db: services.db,
    appPool: services.appPool,
    warehouses: services.warehouses,
    scanLimits: scanLimitsOf(env),
    trustpilot: { apiUrl: env.TRUSTPILOT_API_URL, invitationsApiUrl: env.TRUSTPILOT_INVITATIONS_API_URL },
    env: process.env,
    isWorkflowOpen: (workflowId) => isWorkflowOpen(services.temporal, workflowId),
    schedules: {
      async pause(activationId, note) {
        await setPausedNote(services.db, activationId, note);
        await setSchedulePaused(services.temporal, activationId, true, note);
      },
    },
  };
}
