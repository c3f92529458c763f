/**
 * Starting a run from a program, with the typed client: progress while it runs, then the summary.
 * While `npm start` runs:   npx tsx examples/start-run.ts demo-orders
 * Elsewhere, set DATABASE_URL and TEMPORAL_ADDRESS (and TEMPORAL_TASK_QUEUE if not the default).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { ActivationNotFoundError, InvitationsClient, RunFailedError, RunOverlapError } from '../src/client.ts';
import { readDevConnection } from '../src/config/dev-discovery.ts';
import { createAppDb } from '../src/db/database.ts';

const activationId = process.argv[2] ?? 'demo-orders';
const env = { ...readDevConnection()?.env, ...process.env };
const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS ?? 'localhost:7233' });
const db = createAppDb(env.DATABASE_URL ?? '');
try {
  const client = new InvitationsClient({
    temporal: new Client({ connection, namespace: env.TEMPORAL_NAMESPACE ?? 'default' }),
    db,
    taskQueue: env.TEMPORAL_TASK_QUEUE ?? 'trustpilot-invitations',
  });
  const run = await client.start(activationId);
  console.log(`started ${run.workflowId}`);
  const result = run.result();
  let finished = false;
  void result.finally(() => (finished = true)).catch(() => undefined);
  while (!finished) {
    const progress = await run.progress().catch(() => undefined);
    if (progress) console.log(`${progress.phase}: ${progress.sent} sent, ${progress.rejected} rejected, ${progress.failed} failed of ${progress.toHandle}`);
    await delay(1_000);
  }
  const summary = await result;
  console.log(`run ${summary.runId}: ${summary.newRows} new → ${summary.sent} sent, ${summary.rejected} rejected`);
} catch (error) {
  if (error instanceof ActivationNotFoundError) console.error(error.message);
  else if (error instanceof RunOverlapError) console.error(`another run is in progress: ${error.summary.error ?? ''}`);
  else if (error instanceof RunFailedError) console.error(`run ${error.summary.runId} failed (${error.kind}): ${error.summary.error ?? ''}`);
  else throw error;
  process.exitCode = 1;
} finally {
  await db.destroy();
  await connection.close();
}
