import { resolve } from 'node:path';
import { InvitationsClient } from '../client.ts';
import { claimDevConnection, DEV_DATA_DIR, DevModeRunningError, removeDevConnection, writeDevConnection } from '../config/dev-discovery.ts';
import { claimDeployment, DeploymentModeError } from '../db/deployment.ts';
import { PublicError } from '../domain/index.ts';
import { FAKE_DEFAULTS } from '../fake-trustpilot/server.ts';
import { activityDepsFor, openServices } from '../runtime/services.ts';
import { connectWorker, createAppWorker } from '../runtime/worker.ts';
import { addOrders, watchRuns } from './background.ts';
import { printBanner } from './banner.ts';
import { chooseMetrics, installDevTelemetry } from './metrics.ts';
import { setUpDemo, startPieces, type Cleanup } from './pieces.ts';
import { TEMPORAL_UI_PORT } from './settings.ts';
import { describeFailure, step, StopRequested } from './start-errors.ts';
import { alreadyRunningMessage, refuseBeforeStarting } from './startup-refusal.ts';

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
        WAREHOUSE_EXPORTS_URL: process.env.WAREHOUSE_EXPORTS_URL ?? '',
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
