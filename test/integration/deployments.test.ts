import { NativeConnection, type Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createAppWorker } from '../../src/runtime/worker.ts';
import { FAST_PACING, acceptedReferences, createOrdersTable, createTestContext, runToEnd, saveServiceActivation, segmentRow, type TestContext } from './harness.ts';

/**
 * Two deployments (two app databases) whose workers poll one task queue, as a misconfiguration can
 * make them: each run's tasks are acted on only by workers of the deployment that started it.
 * The other deployment's workers refuse them and Temporal hands them on; a run id never names a row
 * of the wrong database.
 */
describe('workers refuse the tasks of another deployment on their task queue', () => {
  let ours: TestContext;
  let theirs: TestContext;
  let connection: NativeConnection;
  let intruder: { worker: Worker; running: Promise<void> };

  beforeAll(async () => {
    ours = await createTestContext('deploy-ours', { rateLimit: null });
    theirs = await createTestContext('deploy-theirs', { rateLimit: null });
    // The same activation id in both, over different rows: the worst case for a mix-up.
    await createOrdersTable(ours, 'orders', Array.from({ length: 12 }, (_, index) => segmentRow('OU', index + 1)));
    await createOrdersTable(theirs, 'orders', Array.from({ length: 12 }, (_, index) => segmentRow('TH', index + 1)));
    for (const ctx of [ours, theirs]) {
      await saveServiceActivation(ctx, 'shared-id', { kind: 'table', schema: 'shop', name: 'orders' }, { destination: FAST_PACING });
    }
    await ours.startWorker();
    // A worker of the other deployment, on our task queue.
    connection = await NativeConnection.connect({ address: inject('temporalAddress') });
    const worker = await createAppWorker({
      connection,
      namespace: ours.namespace,
      taskQueue: ours.taskQueue,
      deps: theirs.activityDeps({ trustpilot: ours.activityDeps().trustpilot }),
      workflowBundle: { code: inject('workflowCode') },
    });
    intruder = { worker, running: worker.run() };
  });
  afterAll(async () => {
    if (intruder.worker.getState() === 'RUNNING') intruder.worker.shutdown();
    await intruder.running.catch(() => undefined);
    await connection.close();
    await theirs.close();
    await ours.close();
  });

  it("runs of one deployment send only its own rows and record nothing in the other's database; a refused task names both", async () => {
    const summaries = [];
    for (let index = 0; index < 3; index++) {
      await ours.warehouseAdmin.insertInto('shop.orders').values([segmentRow('OU', 100 + index)]).execute();
      summaries.push(await runToEnd(ours, 'shared-id'));
    }
    const theirRuns = await theirs.db.selectFrom('app.runs').select('id').execute();
    const theirLedger = await theirs.db.selectFrom('app.ledger').select('id').execute();
    console.log(
      `two deployments on one queue: ${summaries.map((summary) => `${summary.status}/new ${summary.newRows}/sent ${summary.sent}/failed ${summary.failed}${summary.error ? ` (${summary.error})` : ''}`).join(', ')}; ` +
        `their runs ${theirRuns.length}, ledger ${theirLedger.length}`,
    );
    // Whichever worker Temporal hands a task to, the other deployment's database is never read or written for it.
    expect(theirRuns).toEqual([]);
    expect(theirLedger).toEqual([]);
    expect(acceptedReferences(ours, 'TH')).toEqual([]);
    // A run whose task kept landing on the other deployment's worker fails saying why; it never "succeeds" with rows left behind.
    for (const summary of summaries) {
      if (summary.status === 'succeeded') expect(summary.failed).toBe(0);
      else expect(summary.error).toMatch(/two deployments \(app databases\) serve the same task queue/);
    }

    // With the other deployment's worker gone, the next run sends what is left: every row exactly once.
    intruder.worker.shutdown();
    await intruder.running.catch(() => undefined);
    const last = await runToEnd(ours, 'shared-id');
    expect(last.status).toBe('succeeded');
    const references = acceptedReferences(ours, 'OU');
    expect(references).toHaveLength(15);
    expect(new Set(references).size).toBe(15);
  });
});
