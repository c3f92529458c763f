import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEV_DATA_DIR } from '../config/dev-discovery.ts';
import { readEnv, type AppEnv } from '../config/env.ts';
import { saveActivation, saveDestination } from '../db/config-store.ts';
import { createUntypedDb } from '../db/database.ts';
import { FAKE_DEFAULTS, startFakeTrustpilot } from '../fake-trustpilot/server.ts';
import type { Services } from '../runtime/services.ts';
import { DEMO_ACTIVATION_ID, demoActivation, demoDestination, seedDemoWarehouse } from './demo.ts';
import { startEmbeddedPostgres } from './embedded-postgres.ts';
import { createDatabaseIfMissing, databaseUrl, ensureReaderRole, grantSchemaToReader } from './postgres-admin.ts';
import {
  APP_DATABASE,
  DEMO_RATE_LIMIT,
  DEV_NAMESPACE,
  DEV_TASK_QUEUE,
  EMBEDDED_POSTGRES_PORT,
  EXPORTS_WAREHOUSE_DIR,
  FAKE_TRUSTPILOT_PORT,
  READER,
  TEMPORAL_PORT,
  TEMPORAL_UI_PORT,
  WAREHOUSE_DATABASE,
} from './settings.ts';
import { step, StopRequested } from './start-errors.ts';
import { startDevTemporalServer } from './temporal-server.ts';

export type Cleanup = () => Promise<void>;

export interface Pieces {
  env: AppEnv;
  fakeUrl: string;
  /** the superuser URL of the warehouse database, where the demo is seeded */
  warehouseAdminUrl: string;
  temporalUi: string;
}

/** Starts Postgres, Temporal and the fake Trustpilot, each of its own; returns the environment the app runs with. */
export async function startPieces(cleanups: Cleanup[], stopping: AbortSignal): Promise<Pieces> {
  const checkStopping = () => {
    if (stopping.aborted) throw new StopRequested();
  };
  const postgresDir = resolve(DEV_DATA_DIR, 'postgres');
  console.log(`Starting embedded Postgres on port ${EMBEDDED_POSTGRES_PORT} (data in ${postgresDir}) ...`);
  const postgres = await step(`starting the embedded Postgres (port ${EMBEDDED_POSTGRES_PORT}, data in ${postgresDir})`, () =>
    startEmbeddedPostgres({ dataDir: postgresDir, port: EMBEDDED_POSTGRES_PORT, database: APP_DATABASE }),
  );
  cleanups.push(() => postgres.stop());
  checkStopping();
  // The demo warehouse is a database of its own beside the app's, read by a reader role.
  await step('creating the demo warehouse database and its reader role', async () => {
    await createDatabaseIfMissing(postgres.adminUrl, WAREHOUSE_DATABASE);
    await ensureReaderRole(postgres.adminUrl, READER.user, READER.password, { resetPassword: true });
  });
  checkStopping();

  const temporalDb = resolve(DEV_DATA_DIR, 'temporal.sqlite');
  console.log(`Starting the Temporal dev server on port ${TEMPORAL_PORT} (history in ${temporalDb}) ...`);
  const temporal = await step(`starting the Temporal dev server (port ${TEMPORAL_PORT}, UI ${TEMPORAL_UI_PORT})`, () =>
    startDevTemporalServer({ namespace: DEV_NAMESPACE, dbFilename: temporalDb, port: TEMPORAL_PORT, uiPort: TEMPORAL_UI_PORT }),
  );
  cleanups.push(() => temporal.stop());
  checkStopping();

  const fake = await step(`starting the fake Trustpilot (port ${FAKE_TRUSTPILOT_PORT})`, () =>
    startFakeTrustpilot({ port: FAKE_TRUSTPILOT_PORT, rateLimit: { limit: DEMO_RATE_LIMIT.calls, windowSeconds: DEMO_RATE_LIMIT.perSeconds } }),
  );
  cleanups.push(() => fake.close());
  checkStopping();

  const settings = {
    DATABASE_URL: postgres.url,
    WAREHOUSE_DATABASE_URL: databaseUrl(postgres.adminUrl, WAREHOUSE_DATABASE, READER),
    // A files warehouse beside the database one: the sample exports of examples/ (examples/shop-orders-csv.json reads them).
    WAREHOUSE_EXPORTS_URL: pathToFileURL(EXPORTS_WAREHOUSE_DIR).href,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: DEV_NAMESPACE,
    TEMPORAL_TASK_QUEUE: DEV_TASK_QUEUE,
    TRUSTPILOT_API_URL: fake.apiUrl,
    TRUSTPILOT_INVITATIONS_API_URL: fake.invitationsApiUrl,
    TRUSTPILOT_API_KEY: FAKE_DEFAULTS.apiKey,
    TRUSTPILOT_API_SECRET: FAKE_DEFAULTS.apiSecret,
    TRUSTPILOT_BUSINESS_USER_ID: FAKE_DEFAULTS.businessUserId,
  };
  // The worker reads credentials from its environment, as in production.
  Object.assign(process.env, settings);
  return {
    env: readEnv(),
    fakeUrl: fake.url,
    warehouseAdminUrl: databaseUrl(postgres.adminUrl, WAREHOUSE_DATABASE),
    temporalUi: `http://localhost:${TEMPORAL_UI_PORT}`,
  };
}

/** Seeds the demo warehouse and creates the demo destination and activation the first time. */
export async function setUpDemo(services: Services, pieces: Pieces): Promise<void> {
  const warehouseAdmin = createUntypedDb(pieces.warehouseAdminUrl);
  try {
    await seedDemoWarehouse(warehouseAdmin);
  } finally {
    await warehouseAdmin.destroy();
  }
  await grantSchemaToReader(pieces.warehouseAdminUrl, 'demo', READER.user);
  await grantSchemaToReader(pieces.warehouseAdminUrl, 'public', READER.user);
  const existing = await services.db.selectFrom('app.activations').select('id').where('id', '=', DEMO_ACTIVATION_ID).executeTakeFirst();
  if (!existing) {
    await saveDestination(services.db, demoDestination(FAKE_DEFAULTS.businessUnitId, DEMO_RATE_LIMIT));
    await saveActivation(services.db, demoActivation({ paused: false }));
  }
}
