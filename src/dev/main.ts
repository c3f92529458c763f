import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { InvitationsClient } from '../client.ts';
import {
  claimDevConnection,
  DEV_DATA_DIR,
  DevModeRunningError,
  removeDevConnection,
  runningDevMode,
  writeDevConnection,
  type DevConnection,
} from '../config/dev-discovery.ts';
import { readEnv, trustpilotCredentialVariables, type AppEnv } from '../config/env.ts';
import { saveActivation, saveDestination } from '../db/config-store.ts';
import { createUntypedDb } from '../db/database.ts';
import { claimDeployment, DeploymentModeError } from '../db/deployment.ts';
import { formatRunLine, PublicError } from '../domain/index.ts';
import { FAKE_DEFAULTS, startFakeTrustpilot } from '../fake-trustpilot/server.ts';
import { activityDepsFor, openServices, type Services } from '../runtime/services.ts';
import { installTelemetry } from '../runtime/telemetry.ts';
import { connectWorker, createAppWorker } from '../runtime/worker.ts';
import { toRunSummary } from '../db/runs.ts';
import { DEMO_ACTIVATION_ID, demoActivation, demoDestination, insertDemoOrders, seedDemoWarehouse } from './demo.ts';
import { assertPostgresCanRun, createDatabaseIfMissing, databaseUrl, ensureReaderRole, grantSchemaToReader, startEmbeddedPostgres } from './embedded-postgres.ts';
import { freePort } from './free-port.ts';
import { startDevTemporalServer } from './temporal-server.ts';

export const EMBEDDED_POSTGRES_PORT = 54329;
const TEMPORAL_PORT = 7233;
const TEMPORAL_UI_PORT = 8233;
const FAKE_TRUSTPILOT_PORT = 8787;
const DEFAULT_METRICS_PORT = 9464;
const LOOPBACK = '127.0.0.1';
/** The namespace the dev server creates; nothing else runs there. */
const DEV_NAMESPACE = 'default';
/** Not the production default: a worker of dev mode must never be mistaken for, or serve, a production queue. */
const DEV_TASK_QUEUE = 'trustpilot-invitations-dev';
const APP_DATABASE = 'trustpilot_invitations';
const WAREHOUSE_DATABASE = 'warehouse';
/** The least-privilege role segments are read as; a dev-only password, on a server that listens on localhost only. */
const READER = { user: 'trustpilot_dev_reader', password: 'trustpilot_dev_reader' };
const NEW_ORDERS_EVERY_MS = 20_000;
// Trustpilot allows 833 calls per 5 minutes; the demo's fake allows more so a first run of
// a few hundred orders takes seconds, not minutes. Pacing works the same at any rate.
const DEMO_RATE_LIMIT = { calls: 50, perSeconds: 5 };

const FIXED_PORTS = [
  { port: EMBEDDED_POSTGRES_PORT, what: 'embedded Postgres' },
  { port: TEMPORAL_PORT, what: 'Temporal' },
  { port: TEMPORAL_UI_PORT, what: 'Temporal UI' },
  { port: FAKE_TRUSTPILOT_PORT, what: 'fake Trustpilot' },
] as const;

/**
 * Settings that point a process of the app at a real deployment. Dev mode reads none of them: it
 * runs only what it starts itself, so finding one means it was started where production is
 * configured, and whatever it did next (a worker on a production queue, a schedule in a production
 * namespace, a database and a role on a shared server) would land there.
 */
const PRODUCTION_VARIABLES = [
  'DATABASE_URL',
  'WAREHOUSE_DATABASE_URL',
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_TASK_QUEUE',
  'TRUSTPILOT_API_URL',
  'TRUSTPILOT_INVITATIONS_API_URL',
] as const;

/** The production settings present in `source`, by name (never by value). */
function productionVariables(source: NodeJS.ProcessEnv): string[] {
  const set = PRODUCTION_VARIABLES.filter((name) => (source[name] ?? '').trim() !== '');
  return [...set, ...trustpilotCredentialVariables(source)];
}

/** Why `npm start` refuses this environment, in one paragraph naming each variable; undefined when it may start. */
function devModeRefusal(source: NodeJS.ProcessEnv): string | undefined {
  const found = productionVariables(source);
  if (found.length === 0) return undefined;
  const names = found.join(', ');
  const them = found.length === 1 ? 'it' : 'them';
  return (
    `Dev mode (npm start) refuses to start: ${names} ${found.length === 1 ? 'is' : 'are'} set, and dev mode never touches production: ` +
    `it runs only what it starts itself (an embedded Postgres, a Temporal dev server with its own task queue, a fake Trustpilot). Nothing was created or started. ` +
    `To run the demo, unset ${them} (\`unset ${found.join(' ')}\`); for a real deployment, run a production worker with \`npm run worker\`, which uses ${them}.`
  );
}

/** The one line a second `npm start` prints: which one runs, and where. */
function alreadyRunningMessage(running: DevConnection): string {
  const where = [running.temporalUi ? `Temporal UI ${running.temporalUi}` : undefined, `data in ${running.dataDir ?? DEV_DATA_DIR}`].filter(Boolean).join(', ');
  const state = running.state === 'starting' ? 'starting' : 'running';
  return `Dev mode is already ${state} (pid ${running.pid}; ${where}): use that one (npm run cli -- list), or stop it (Ctrl-C in its terminal, or kill ${running.pid}) before starting another.`;
}

/** A failure's reason, with any password in a URL it quotes left out. */
function describeFailure(error: unknown): string {
  const text =
    error instanceof PublicError
      ? error.message
      : error instanceof Error
        ? `${error.name}: ${error.message || 'no message'}`
        : typeof error === 'string' && error !== ''
          ? error
          : 'it gave no reason';
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*):[^\s@/]*@/gi, '$1:***@');
}

/** A step of the start that failed: what dev mode was doing, and why that failed. */
class StartError extends PublicError {
  override readonly name = 'StartError';
}

async function step<T>(doing: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof StartError) throw error;
    throw new StartError(`Dev mode could not start: ${doing} failed: ${describeFailure(error)}`, { cause: error });
  }
}

/** A signal arrived while dev mode was starting: stop what has started, and say so. */
class StopRequested extends Error {}

async function portInUse(port: number, host = LOOPBACK): Promise<boolean> {
  return await new Promise((resolvePort) => {
    const probe = createServer();
    probe.once('error', () => resolvePort(true));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolvePort(false)));
  });
}

interface Metrics {
  /** host:port, or undefined when METRICS_BIND_ADDRESS=off */
  address?: string;
  /** why it is not the documented default, when it is not */
  note?: string;
}

/**
 * Where the worker serves Prometheus metrics: METRICS_BIND_ADDRESS as given, else the worker's
 * default 127.0.0.1:9464, or a free port when that one is taken (by a production worker, say).
 */
async function chooseMetrics(env: AppEnv): Promise<Metrics> {
  if ((process.env.METRICS_BIND_ADDRESS ?? '').trim() !== '') return env.METRICS_BIND_ADDRESS ? { address: env.METRICS_BIND_ADDRESS } : {};
  if (!(await portInUse(DEFAULT_METRICS_PORT))) return { address: `${LOOPBACK}:${DEFAULT_METRICS_PORT}` };
  return { address: `${LOOPBACK}:${await freePort()}`, note: `${DEFAULT_METRICS_PORT} is in use` };
}

/** Installs the SDK's runtime with the metrics endpoint; before any native connection or dev server. */
async function installDevTelemetry(env: AppEnv, metrics: Metrics): Promise<Metrics> {
  const logLevel = env.TEMPORAL_LOG_LEVEL ?? 'ERROR';
  try {
    installTelemetry({ logLevel, ...(metrics.address ? { metricsBindAddress: metrics.address } : {}) });
    return metrics;
  } catch (error) {
    if ((process.env.METRICS_BIND_ADDRESS ?? '').trim() !== '') {
      throw new StartError(`METRICS_BIND_ADDRESS=${metrics.address ?? ''}: cannot serve metrics there (is the port in use?); choose another host:port, or 'off'`, { cause: error });
    }
  }
  // Taken between the look and the bind: once more, on a port nobody holds now.
  const retry = { address: `${LOOPBACK}:${await freePort()}`, note: metrics.note ?? `${DEFAULT_METRICS_PORT} is in use` };
  installTelemetry({ logLevel, metricsBindAddress: retry.address });
  return retry;
}

type Cleanup = () => Promise<void>;

interface Pieces {
  env: AppEnv;
  fakeUrl: string;
  /** the superuser URL of the warehouse database, where the demo is seeded */
  warehouseAdminUrl: string;
  temporalUi: string;
}

/** Starts Postgres, Temporal and the fake Trustpilot, each of its own; returns the environment the app runs with. */
async function startPieces(cleanups: Cleanup[], stopping: AbortSignal): Promise<Pieces> {
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
async function setUpDemo(services: Services, pieces: Pieces): Promise<void> {
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

function printBanner(pieces: Pieces, metrics: Metrics): void {
  const { env } = pieces;
  console.log('');
  console.log(`Ready. Activation "${DEMO_ACTIVATION_ID}" runs every minute; new demo orders arrive every ${NEW_ORDERS_EVERY_MS / 1000}s.`);
  console.log(`  Temporal UI:      ${pieces.temporalUi}/namespaces/${env.TEMPORAL_NAMESPACE}/schedules`);
  console.log(`                    (namespace ${env.TEMPORAL_NAMESPACE}, task queue ${env.TEMPORAL_TASK_QUEUE})`);
  console.log(`  Your tables:      psql ${pieces.warehouseAdminUrl}`);
  console.log(`                    (segments are read as role ${READER.user}: it can read the schemas demo and public; GRANT it others)`);
  console.log(`  App database:     psql ${env.DATABASE_URL ?? ''}`);
  console.log(`  Fake Trustpilot:  ${pieces.fakeUrl}/admin/invitations`);
  console.log(`                    businessUnitId "${FAKE_DEFAULTS.businessUnitId}", API key/secret ${FAKE_DEFAULTS.apiKey} / ${FAKE_DEFAULTS.apiSecret}, business user ${FAKE_DEFAULTS.businessUserId}`);
  console.log(`  Metrics:          ${metrics.address ? `http://${metrics.address}/metrics${metrics.note ? `  (${metrics.note}, so a free port)` : ''}` : 'off (METRICS_BIND_ADDRESS=off)'}`);
  console.log(`  Data:             ${DEV_DATA_DIR}`);
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

/** New demo orders arriving, as they would in a live warehouse. */
async function addOrders(pieces: Pieces, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    await delay(NEW_ORDERS_EVERY_MS, undefined, { signal }).catch(() => undefined);
    if (signal.aborted) break;
    const warehouseAdmin = createUntypedDb(pieces.warehouseAdminUrl, { max: 1 });
    await insertDemoOrders(warehouseAdmin, 1 + Math.floor(Math.random() * 3)).catch(() => undefined);
    await warehouseAdmin.destroy();
  }
}

/**
 * Everything that can refuse the start without touching anything: production settings, another
 * dev mode, ports taken, a data directory the postgres user cannot enter. Only reads.
 */
async function refuseBeforeStarting(): Promise<AppEnv> {
  const refusal = devModeRefusal(process.env);
  if (refusal) throw new PublicError(refusal);
  const env = readEnv();
  const running = runningDevMode();
  if (running) throw new PublicError(alreadyRunningMessage(running));
  const busy: string[] = [];
  for (const { port, what } of FIXED_PORTS) if (await portInUse(port)) busy.push(`${port} (${what})`);
  if (busy.length > 0) {
    throw new PublicError(
      `Dev mode cannot start: port${busy.length === 1 ? '' : 's'} ${busy.join(', ')} ${busy.length === 1 ? 'is' : 'are'} in use on this machine, and dev mode runs on fixed ports ` +
        `(another \`npm start\` with another data directory than ${DEV_DATA_DIR}, or another program?). Stop it, then run \`npm start\` again.`,
    );
  }
  assertPostgresCanRun(DEV_DATA_DIR);
  return env;
}

/**
 * Runs the whole product on one machine, from pieces of its own only: an embedded Postgres, a
 * Temporal dev server and a fake Trustpilot; demo data is seeded, and a worker serves the runs.
 */
async function main(): Promise<void> {
  const initial = await refuseBeforeStarting();
  const stopping = new AbortController();
  const stop = (signal: NodeJS.Signals) => {
    if (!stopping.signal.aborted) console.log(`\n${signal} received: stopping ...`);
    stopping.abort();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const metrics = await installDevTelemetry(initial, await chooseMetrics(initial));
  const temporalUi = `http://localhost:${TEMPORAL_UI_PORT}`;
  try {
    claimDevConnection({ dataDir: DEV_DATA_DIR, temporalUi });
  } catch (error) {
    if (error instanceof DevModeRunningError) throw new PublicError(alreadyRunningMessage(error.running));
    throw error;
  }
  const cleanups: Cleanup[] = [() => Promise.resolve(removeDevConnection())];
  let ran = false;
  try {
    const pieces = await startPieces(cleanups, stopping.signal);
    const { env } = pieces;
    const services = await step('opening the app database and Temporal', () => openServices(env, { migrate: true, checkReader: true }));
    cleanups.push(() => services.close());
    await step('checking the app database is a dev one', async () => {
      try {
        await claimDeployment(services.db, 'dev');
      } catch (error) {
        if (!(error instanceof DeploymentModeError)) throw error;
        throw new PublicError(
          `the embedded app database (in ${resolve(DEV_DATA_DIR, 'postgres')}) was claimed by a production worker, and dev mode never touches production; move that directory away to start afresh`,
        );
      }
    });
    await step('seeding the demo', () => setUpDemo(services, pieces));
    const client = new InvitationsClient({ temporal: services.temporal, db: services.db, taskQueue: env.TEMPORAL_TASK_QUEUE });
    for (const outcome of await step('creating the schedules', () => client.syncSchedules())) {
      if (typeof outcome.result === 'object') console.log(`  schedule of ${outcome.activationId} not synced: ${outcome.result.error}`);
    }
    if (stopping.signal.aborted) throw new StopRequested();

    const connection = await step('connecting the worker', () => connectWorker(env));
    cleanups.push(() => connection.close());
    const worker = await step('creating the worker', () =>
      createAppWorker({ connection, namespace: env.TEMPORAL_NAMESPACE, taskQueue: env.TEMPORAL_TASK_QUEUE, deps: activityDepsFor(services, env) }),
    );
    if (stopping.signal.aborted) throw new StopRequested();
    writeDevConnection(
      {
        DATABASE_URL: env.DATABASE_URL ?? '',
        WAREHOUSE_DATABASE_URL: env.WAREHOUSE_DATABASE_URL ?? '',
        TEMPORAL_ADDRESS: env.TEMPORAL_ADDRESS ?? '',
        TEMPORAL_NAMESPACE: env.TEMPORAL_NAMESPACE,
        TEMPORAL_TASK_QUEUE: env.TEMPORAL_TASK_QUEUE,
        TRUSTPILOT_API_URL: env.TRUSTPILOT_API_URL,
        TRUSTPILOT_INVITATIONS_API_URL: env.TRUSTPILOT_INVITATIONS_API_URL,
        TRUSTPILOT_API_KEY: FAKE_DEFAULTS.apiKey,
        TRUSTPILOT_API_SECRET: FAKE_DEFAULTS.apiSecret,
        TRUSTPILOT_BUSINESS_USER_ID: FAKE_DEFAULTS.businessUserId,
      },
      { dataDir: DEV_DATA_DIR, temporalUi, ...(metrics.address ? { metricsUrl: `http://${metrics.address}/metrics` } : {}) },
    );
    printBanner(pieces, metrics);

    ran = true;
    stopping.signal.addEventListener('abort', () => worker.shutdown(), { once: true });
    await Promise.all([worker.run(), watchRuns(services, stopping.signal), addOrders(pieces, stopping.signal)]);
  } catch (error) {
    // Ctrl-C reaches the servers too, so a piece starting at that moment fails: that is the stop asked for.
    if (!(error instanceof StopRequested) && !stopping.signal.aborted) throw error;
    ran = true;
  } finally {
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((error: unknown) => console.error(`  cleanup failed: ${describeFailure(error)}`));
    }
    if (ran) console.log('Stopped.');
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(describeFailure(error));
    process.exit(1);
  },
);
