import { resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { InvitationsClient } from '../client.ts';
import { hasTrustpilotCredentials, readEnv, type AppEnv } from '../config/env.ts';
import { saveActivation, saveDestination } from '../db/config-store.ts';
import { FAKE_DEFAULTS, startFakeTrustpilot } from '../fake-trustpilot/server.ts';
import { createAppWorker } from '../runtime/worker.ts';
import { activityDepsFor, connectWorker, openServices } from '../runtime/services.ts';
import { DEMO_ACTIVATION_ID, demoActivation, demoDestination, insertDemoOrders, seedDemoWarehouse } from './demo.ts';
import { startEmbeddedPostgres } from './embedded-postgres.ts';
import { startDevTemporalServer } from './temporal-server.ts';
import { watchRuns } from './run-watcher.ts';
import { installTemporalLogging } from '../runtime/temporal-logging.ts';

const DATA_DIR = resolve(import.meta.dirname, '..', '..', '.data');
const EMBEDDED_POSTGRES_PORT = 54329;
const TEMPORAL_PORT = 7233;
const TEMPORAL_UI_PORT = 8233;
const FAKE_TRUSTPILOT_PORT = 8787;
const NEW_ORDERS_EVERY_MS = 20_000;
// Trustpilot allows 833 calls per 5 minutes; the demo's fake allows more so a first run of
// a few hundred orders takes seconds, not minutes. Pacing works the same at any rate.
const DEMO_RATE_LIMIT = { calls: 50, perSeconds: 5 };

type Cleanup = () => Promise<void>;

/**
 * Runs the whole product on one machine: what the environment does not provide (Postgres,
 * Temporal, Trustpilot) is started embedded, demo data is seeded, and a worker serves the runs.
 */
async function main(): Promise<void> {
  const cleanups: Cleanup[] = [];
  const stopping = new AbortController();
  const stop = () => stopping.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  installTemporalLogging();
  try {
    const overrides: Record<string, string> = {};
    const initialEnv = readEnv();

    if (!initialEnv.DATABASE_URL) {
      console.log('Starting embedded Postgres (data in .data/postgres) ...');
      const postgres = await startEmbeddedPostgres({
        dataDir: resolve(DATA_DIR, 'postgres'),
        port: EMBEDDED_POSTGRES_PORT,
        database: 'trustpilot_invitations',
      });
      cleanups.push(() => postgres.stop());
      overrides.DATABASE_URL = postgres.url;
    }
    if (!initialEnv.TEMPORAL_ADDRESS) {
      console.log('Starting the Temporal dev server (history in .data/temporal.sqlite) ...');
      const temporal = await startDevTemporalServer({
        namespace: initialEnv.TEMPORAL_NAMESPACE,
        dbFilename: resolve(DATA_DIR, 'temporal.sqlite'),
        port: TEMPORAL_PORT,
        uiPort: TEMPORAL_UI_PORT,
      });
      cleanups.push(() => temporal.stop());
      overrides.TEMPORAL_ADDRESS = temporal.address;
      console.log(`  Temporal CLI from ${temporal.cli.source}${'path' in temporal.cli ? ` (${temporal.cli.path})` : ''}`);
    }
    let fakeAdminUrl: string | undefined;
    if (!hasTrustpilotCredentials(initialEnv)) {
      const fake = await startFakeTrustpilot({
        port: FAKE_TRUSTPILOT_PORT,
        rateLimit: { limit: DEMO_RATE_LIMIT.calls, windowSeconds: DEMO_RATE_LIMIT.perSeconds },
      });
      cleanups.push(() => fake.close());
      fakeAdminUrl = `${fake.url}/admin/invitations`;
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
    const env: AppEnv = readEnv();

    const services = await openServices(env, { migrate: true });
    cleanups.push(() => services.close());
    await seedDemoWarehouse(services.warehouse);
    await saveDestination(
      services.db,
      fakeAdminUrl
        ? demoDestination(FAKE_DEFAULTS.businessUnitId, DEMO_RATE_LIMIT)
        : demoDestination(process.env.DEMO_BUSINESS_UNIT_ID ?? FAKE_DEFAULTS.businessUnitId),
    );
    // Against real Trustpilot credentials the demo must not invite made-up customers by itself.
    const demoPaused = fakeAdminUrl === undefined;
    await saveActivation(services.db, demoActivation({ paused: demoPaused }));
    const client = new InvitationsClient({ temporal: services.temporal, db: services.db, taskQueue: env.TEMPORAL_TASK_QUEUE });
    await client.ensureAllSchedules();

    const connection = await connectWorker(env);
    cleanups.push(() => connection.close());
    const worker = await createAppWorker({
      connection,
      namespace: env.TEMPORAL_NAMESPACE,
      taskQueue: env.TEMPORAL_TASK_QUEUE,
      deps: activityDepsFor(services, env),
    });

    console.log('');
    if (demoPaused) {
      console.log('Ready. Trustpilot credentials are set, so the demo activation "%s" is PAUSED: it would send real invitations.', DEMO_ACTIVATION_ID);
    } else {
      console.log('Ready. Activation "%s" runs every minute; new demo orders arrive every %ds.', DEMO_ACTIVATION_ID, NEW_ORDERS_EVERY_MS / 1000);
    }
    if (!initialEnv.TEMPORAL_ADDRESS) console.log(`  Temporal UI:        http://localhost:${TEMPORAL_UI_PORT}/namespaces/${env.TEMPORAL_NAMESPACE}/schedules`);
    if (fakeAdminUrl) console.log(`  Fake Trustpilot:    ${fakeAdminUrl}`);
    console.log(`  Run one now:        npm run cli -- run ${DEMO_ACTIVATION_ID}`);
    console.log('  Stop:               Ctrl-C');
    console.log('');

    const background = [
      worker.run(),
      watchRuns(services.db, stopping.signal, (line) => console.log(line)),
      (async () => {
        while (!stopping.signal.aborted) {
          await delay(NEW_ORDERS_EVERY_MS, undefined, { signal: stopping.signal }).catch(() => undefined);
          if (stopping.signal.aborted) break;
          await insertDemoOrders(services.warehouse, 1 + Math.floor(Math.random() * 3)).catch(() => undefined);
        }
      })(),
    ];
    stopping.signal.addEventListener('abort', () => worker.shutdown(), { once: true });
    await Promise.all(background);
  } finally {
    console.log('Stopping ...');
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((error: unknown) => console.error(`  cleanup failed: ${error instanceof Error ? error.message : String(error)}`));
    }
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
