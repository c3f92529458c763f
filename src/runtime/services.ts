import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { sql } from 'kysely';
import type { ActivityDeps } from '../activities/index.ts';
import { isWorkflowOpen } from '../client.ts';
import type { AppEnv } from '../config/env.ts';
import { createAppDb, createWarehouseDb, type AppDb } from '../db/database.ts';
import { migrateToLatest } from '../db/migrate.ts';
import type { WarehouseDb } from '../source/reader.ts';

/** Everything a process of the app talks to, opened once and closed together. */
export interface Services {
  db: AppDb;
  warehouse: WarehouseDb;
  temporal: Client;
  connection: Connection;
  close(): Promise<void>;
}

export function requireDatabaseUrl(env: AppEnv): string {
  if (!env.DATABASE_URL) throw new Error('DATABASE_URL is not set (npm start sets it up for you in embedded mode)');
  return env.DATABASE_URL;
}

export async function openServices(env: AppEnv, options: { migrate?: boolean } = {}): Promise<Services> {
  const databaseUrl = requireDatabaseUrl(env);
  const db = createAppDb(databaseUrl);
  const warehouseUrl = env.WAREHOUSE_DATABASE_URL ?? databaseUrl;
  // A pool of its own even on the same database: warehouse values are parsed as they are (big keys stay exact).
  const warehouse: WarehouseDb = createWarehouseDb(warehouseUrl);
  let connection: Connection | undefined;
  try {
    await sql`select 1`.execute(db);
    if (options.migrate) await migrateToLatest(db);
    connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS ?? 'localhost:7233' });
    const temporal = new Client({ connection, namespace: env.TEMPORAL_NAMESPACE });
    const openConnection = connection;
    return {
      db,
      warehouse,
      temporal,
      connection,
      async close() {
        await openConnection.close();
        await warehouse.destroy();
        await db.destroy();
      },
    };
  } catch (error) {
    await connection?.close();
    await warehouse.destroy();
    await db.destroy();
    throw error;
  }
}

export function activityDepsFor(services: Services, env: AppEnv): ActivityDeps {
  return {
    db: services.db,
    warehouse: services.warehouse,
    trustpilot: { apiUrl: env.TRUSTPILOT_API_URL, invitationsApiUrl: env.TRUSTPILOT_INVITATIONS_API_URL },
    env: process.env,
    isWorkflowOpen: (workflowId) => isWorkflowOpen(services.temporal, workflowId),
  };
}

export async function connectWorker(env: AppEnv): Promise<NativeConnection> {
  return await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS ?? 'localhost:7233' });
}
