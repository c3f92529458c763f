import { resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { InvitationsClient } from '../client.ts';
import { removeDevConnection, writeDevConnection, DEV_DATA_DIR } from '../config/dev-discovery.ts';
import { readEnv, trustpilotCredentialVariables, type AppEnv } from '../config/env.ts';
import { saveActivation, saveDestination } from '../db/config-store.ts';
import { createAppDb, createUntypedDb } from '../db/database.ts';
import { DEV_REFUSES_PRODUCTION, claimDeployment, peekDeployment } from '../db/deployment.ts';
import { formatRunLine, PublicError } from '../domain/index.ts';
import { FAKE_DEFAULTS, startFakeTrustpilot } from '../fake-trustpilot/server.ts';
import { activityDepsFor, openServices, type Services } from '../runtime/services.ts';
import { installTelemetry } from '../runtime/telemetry.ts';
import { connectWorker, createAppWorker } from '../runtime/worker.ts';
import { toRunSummary } from '../db/runs.ts';
import { DEMO_ACTIVATION_ID, demoActivation, demoDestination, insertDemoOrders, seedDemoWarehouse } from './demo.ts';
import { createDatabaseIfMissing, databaseUrl, ensureReaderRole, grantSchemaToReader, startEmbeddedPostgres } from './embedded-postgres.ts';
import { startDevTemporalServer } from './temporal-server.ts';

export const EMBEDDED_POSTGRES_PORT = 54329;
const TEMPORAL_PORT = 7233;
const TEMPORAL_UI_PORT = 8233;
const FAKE_TRUSTPILOT_PORT = 8787;
const APP_DATABASE = 'trustpilot_invitations';
const WAREHOUSE_DATABASE = 'warehouse';
/** The least-privilege role segments are read as; a dev-only password, on a server that listens on localhost only. */
const READER = { user: 'trustpilot_dev_reader', password: 'trustpilot_dev_reader' };
const NEW_ORDERS_EVERY_MS = 20_000;
// Trustpilot allows 833 calls per 5 minutes; the demo's fake allows more so a first run of
// a few hundred orders takes seconds, not minutes. Pacing works the same at any rate.
const DEMO_RATE_LIMIT = { calls: 50, perSeconds: 5 };

type Cleanup = () => Promise<void>;

/**
 * Why `npm start` refuses this environment, or undefined. The fake Trustpilot stands in only when
 * no credential is given in any form, and then only beside pieces dev mode runs itself: a fake
 * serving a real Temporal cluster's task queue could record rows as sent that never were.
 */
export function devModeRefusal(source: NodeJS.ProcessEnv): string | undefined {
  const credentials = trustpilotCredentialVariables(source);
  if (credentials.length > 0) return undefined;
  const real = ['TEMPORAL_ADDRESS'].filter((name) => (source[name] ?? '').trim() !== '');
  if (real.length === 0) return undefined;
  return (
    `npm start runs a fake Trustpilot when no Trustpilot credential is set, and ${real.join(', ')} points at a real deployment: ` +
    `it refuses to mix the two. Unset ${real.join(', ')} to run everything embedded, or set the Trustpilot credentials ` +
    `(TRUSTPILOT_API_KEY, … or their _FILE forms) to use the real API — or run a production worker with \`npm run worker\`.`
  );
}

interface Pieces {
  env: AppEnv;
  fakeUrl?: string;
  /** the superuser URL of the warehouse database, when dev mode runs it (and seeds the demo there) */
  warehouseAdminUrl?: string;
  temporalUi?: string;
}

/** Starts what the environment does not provide; returns the environment the app runs with. */
async function startPieces(initial: AppEnv, cleanups: Cleanup[]): Promise<Pieces> {
  const overrides: Record<string, string> = {};
  let adminUrl: string | undefined;
  if (!initial.DATABASE_URL) {
    console.log('Starting embedded Postgres (data in .data/postgres) ...');
    const postgres = await startEmbeddedPostgres({ dataDir: resolve(DEV_DATA_DIR, 'postgres'), port: EMBEDDED_POSTGRES_PORT, database: APP_DATABASE });
    cleanups.push(() => postgres.stop());
    overrides.DATABASE_URL = postgres.url;
    adminUrl = postgres.adminUrl;
  }
  let warehouseAdminUrl: string | undefined;
  if (!initial.WAREHOUSE_DATABASE_URL) {
    // The demo warehouse is a database of its own beside the app's, read by a reader role.
    const serverUrl = adminUrl ?? initial.DATABASE_URL ?? '';
    await createDatabaseIfMissing(serverUrl, WAREHOUSE_DATABASE);
    await ensureReaderRole(serverUrl, READER.user, READER.password, { resetPassword: adminUrl !== undefined });
    warehouseAdminUrl = databaseUrl(serverUrl, WAREHOUSE_DATABASE);
    overrides.WAREHOUSE_DATABASE_URL = databaseUrl(serverUrl, WAREHOUSE_DATABASE, READER);
  }
  let temporalUi: string | undefined;
  if (!initial.TEMPORAL_ADDRESS) {
    console.log('Starting the Temporal dev server (history in .data/temporal.sqlite) ...');
    const temporal = await startDevTemporalServer({
      namespace: initial.TEMPORAL_NAMESPACE,
      dbFilename: resolve(DEV_DATA_DIR, 'temporal.sqlite'),
      port: TEMPORAL_PORT,
      uiPort: TEMPORAL_UI_PORT,
    });
    cleanups.push(() => temporal.stop());
    overrides.TEMPORAL_ADDRESS = temporal.address;
    temporalUi = `http://localhost:${TEMPORAL_UI_PORT}`;
  }
  let fakeUrl: string | undefined;
  if (trustpilotCredentialVariables(process.env).length === 0) {
    const fake = await startFakeTrustpilot({
      port: FAKE_TRUSTPILOT_PORT,
      rateLimit: { limit: DEMO_RATE_LIMIT.calls, windowSeconds: DEMO_RATE_LIMIT.perSeconds },
    });
    cleanups.push(() => fake.close());
    fakeUrl = fake.url;
    Object.assign(overrides, {
      TRUSTPILOT_API_URL: fake.apiUrl,
      TRUSTPILOT_INVITATIONS_API_URL: fake.invitationsApiUrl,
      TRUSTPILOT_API_KEY: FAKE_DEFAULTS.apiKey,
      TRUSTPILOT_API_SECRET: FAKE_DEFAULTS.apiSecret,
      TRUSTPILOT_BUSINESS_USER_ID: FAKE_DEFAULTS.businessUserId,
    });
  }
  // The worker reads credentials from its environment, as in production.
  Object.assign(process.env, overrides);
  return {
    env: readEnv(),
    ...(fakeUrl ? { fakeUrl } : {}),
    ...(warehouseAdminUrl ? { warehouseAdminUrl } : {}),
    ...(temporalUi ? { temporalUi } : {}),
  };
}

/**
 * Seeds the demo warehouse and creates the demo destination and activation the first time. Against
 * real Trustpilot credentials the demo activation is created paused: it would invite made-up customers.
 */
async function setUpDemo(services: Services, pieces: Pieces): Promise<boolean> {
  if (!pieces.warehouseAdminUrl) return false;
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
    await saveDestination(
      services.db,
      pieces.fakeUrl ? demoDestination(FAKE_DEFAULTS.businessUnitId, DEMO_RATE_LIMIT) : demoDestination(process.env.DEMO_BUSINESS_UNIT_ID ?? FAKE_DEFAULTS.businessUnitId),
    );
    await saveActivation(services.db, demoActivation({ paused: pieces.fakeUrl === undefined }));
  }
  return true;
}

function printBanner(pieces: Pieces, demo: boolean): void {
  const { env } = pieces;
  console.log('');
  if (demo && pieces.fakeUrl) {
    console.log(`Ready. Activation "${DEMO_ACTIVATION_ID}" runs every minute; new demo orders arrive every ${NEW_ORDERS_EVERY_MS / 1000}s.`);
  } else if (demo) {
    console.log(`Ready. Trustpilot credentials are set, so the demo activation "${DEMO_ACTIVATION_ID}" is PAUSED: it would send real invitations.`);
  } else {
    console.log('Ready. WAREHOUSE_DATABASE_URL is set, so no demo data was seeded.');
  }
  if (pieces.temporalUi) console.log(`  Temporal UI:      ${pieces.temporalUi}/namespaces/${env.TEMPORAL_NAMESPACE}/schedules`);
  if (pieces.warehouseAdminUrl) {
    console.log(`  Your tables:      psql ${pieces.warehouseAdminUrl}`);
    console.log(`                    (segments are read as role ${READER.user}: it can read the schemas demo and public; GRANT it others)`);
  }
  console.log(`  App database:     psql ${env.DATABASE_URL ?? ''}`);
  if (pieces.fakeUrl) {
    console.log(`  Fake Trustpilot:  ${pieces.fakeUrl}/admin/invitations`);
    console.log(`                    businessUnitId "${FAKE_DEFAULTS.businessUnitId}", API key/secret ${FAKE_DEFAULTS.apiKey} / ${FAKE_DEFAULTS.apiSecret}, business user ${FAKE_DEFAULTS.businessUserId}`);
  }
  console.log(`  Command line:     npm run cli -- list      (it finds this running instance by itself)`);
  console.log(`  Run one now:      npm run cli -- run ${DEMO_ACTIVATION_ID}`);
  console.log('  Stop:             Ctrl-C (or SIGTERM to this process)');
  console.log('');
}

/** Prints one line per run that finishes from now on. */
async function watchRuns(services: Services, signal: AbortSignal): Promise<void> {
  const since = new Date();
  const printed = new Set<number>();
  while (!signal.aborted) {
    try {
      const finished = await services.db.selectFrom('app.runs').selectAll().where('finished_at', '>=', since).orderBy('finished_at').execute();
      for (const run of finished) {
        if (printed.has(run.id)) continue;
        printed.add(run.id);
        console.log(formatRunLine(toRunSummary(run)));
      }
    } catch {
      // Postgres may be restarting; the next poll catches up.
    }
    await delay(2_000, undefined, { signal }).catch(() => undefined);
  }
}

/** Looks before touching anything: a database a production worker uses is refused before dev mode creates or migrates a thing. */
async function refuseProductionDatabase(url: string): Promise<void> {
  const db = createAppDb(url, { max: 1 });
  try {
    const deployment = await peekDeployment(db);
    if (deployment?.mode === 'production') throw new PublicError(DEV_REFUSES_PRODUCTION);
  } finally {
    await db.destroy();
  }
}

/**
 * Runs the whole product on one machine: what the environment does not provide (Postgres,
 * Temporal, Trustpilot) is started embedded, demo data is seeded, and a worker serves the runs.
 */
async function main(): Promise<void> {
  const refusal = devModeRefusal(process.env);
  if (refusal) throw new PublicError(refusal);
  const cleanups: Cleanup[] = [];
  const stopping = new AbortController();
  const stop = (signal: NodeJS.Signals) => {
    if (!stopping.signal.aborted) console.log(`\n${signal} received: stopping ...`);
    stopping.abort();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const initial = readEnv();
  installTelemetry({ logLevel: initial.TEMPORAL_LOG_LEVEL ?? 'ERROR' });
  if (initial.DATABASE_URL) await refuseProductionDatabase(initial.DATABASE_URL);
  try {
    const pieces = await startPieces(initial, cleanups);
    const { env } = pieces;
    const services = await openServices(env, { migrate: true, checkReader: true });
    cleanups.push(() => services.close());
    await claimDeployment(services.db, 'dev');
    const demo = await setUpDemo(services, pieces);
    const client = new InvitationsClient({ temporal: services.temporal, db: services.db, taskQueue: env.TEMPORAL_TASK_QUEUE });
    for (const outcome of await client.syncSchedules()) {
      if (typeof outcome.result === 'object') console.log(`  schedule of ${outcome.activationId} not synced: ${outcome.result.error}`);
    }

    const connection = await connectWorker(env);
    cleanups.push(() => connection.close());
    const worker = await createAppWorker({
      connection,
      namespace: env.TEMPORAL_NAMESPACE,
      taskQueue: env.TEMPORAL_TASK_QUEUE,
      deps: activityDepsFor(services, env),
    });
    writeDevConnection(
      Object.fromEntries(
        Object.entries({
          DATABASE_URL: env.DATABASE_URL,
          WAREHOUSE_DATABASE_URL: env.WAREHOUSE_DATABASE_URL,
          TEMPORAL_ADDRESS: env.TEMPORAL_ADDRESS,
          TEMPORAL_NAMESPACE: env.TEMPORAL_NAMESPACE,
          TEMPORAL_TASK_QUEUE: env.TEMPORAL_TASK_QUEUE,
          ...(pieces.fakeUrl
            ? {
                TRUSTPILOT_API_URL: env.TRUSTPILOT_API_URL,
                TRUSTPILOT_INVITATIONS_API_URL: env.TRUSTPILOT_INVITATIONS_API_URL,
                TRUSTPILOT_API_KEY: FAKE_DEFAULTS.apiKey,
                TRUSTPILOT_API_SECRET: FAKE_DEFAULTS.apiSecret,
                TRUSTPILOT_BUSINESS_USER_ID: FAKE_DEFAULTS.businessUserId,
              }
            : {}),
        }).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
      ),
    );
    cleanups.push(() => Promise.resolve(removeDevConnection()));
    printBanner(pieces, demo);

    stopping.signal.addEventListener('abort', () => worker.shutdown(), { once: true });
    await Promise.all([
      worker.run(),
      watchRuns(services, stopping.signal),
      (async () => {
        while (demo && pieces.fakeUrl && pieces.warehouseAdminUrl && !stopping.signal.aborted) {
          await delay(NEW_ORDERS_EVERY_MS, undefined, { signal: stopping.signal }).catch(() => undefined);
          if (stopping.signal.aborted) break;
          const warehouseAdmin = createUntypedDb(pieces.warehouseAdminUrl, { max: 1 });
          await insertDemoOrders(warehouseAdmin, 1 + Math.floor(Math.random() * 3)).catch(() => undefined);
          await warehouseAdmin.destroy();
        }
      })(),
    ]);
  } finally {
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((error: unknown) => console.error(`  cleanup failed: ${error instanceof Error ? error.message : String(error)}`));
    }
    console.log('Stopped.');
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof PublicError ? error.message : error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    process.exit(1);
  },
);
