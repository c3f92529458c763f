import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveActivation, saveDestination } from '../../src/db/config-store.ts';
import { FAKE_DEFAULTS } from '../../src/fake-trustpilot/server.ts';
import { deleteSchedule, scheduleIdFor } from '../../src/temporal/schedules.ts';
import { searchAttributes } from '../../src/temporal/search-attributes.ts';
import { progressQuery } from '../../src/workflows/activation-run.ts';
import { ORDER_MAPPING, createOrdersTable, createTestContext, historyText, order, orderActivation, serviceDestination, waitForFinishedRuns, type TestContext } from './harness.ts';

describe('a scheduled activation, end to end', () => {
  let ctx: TestContext;
  const activationId = 'e2e-orders';

  beforeAll(async () => {
    // Paced well above what 28 rows need: pacing itself is proven in pacing.test.ts.
    ctx = await createTestContext('e2e', { rateLimit: null });
    await ctx.startWorker();
  });
  afterAll(async () => {
    await deleteSchedule(ctx.temporal, activationId);
    await ctx.close();
  });

  it('sends one invitation per row, then only the rows added since', async () => {
    const firstBatch = Array.from({ length: 25 }, (_, index) => order(index + 1, new Date(Date.now() - (30 - index) * 60_000)));
    await createOrdersTable(ctx, 'orders', firstBatch);
    await saveDestination(ctx.db, serviceDestination('e2e-destination', { credentials: { grant: 'client_credentials' }, rateLimit: { calls: 100, perSeconds: 1 } }));
    // Scheduled far apart (a day), so only the triggers below start runs.
    await saveActivation(
      ctx.db,
      orderActivation(activationId, 'e2e-destination', { kind: 'table', schema: 'shop', name: 'orders' }, {
        primaryKey: ['order_id'],
        cursor: { column: 'created_at', lookback: '1h' },
        mapping: { ...ORDER_MAPPING, locale: 'locale' },
      }),
    );
    await ctx.client.ensureSchedule(activationId);
    const schedule = await ctx.temporal.schedule.getHandle(scheduleIdFor(activationId)).describe();
    expect(schedule.policies.overlap).toBe('SKIP');

    await ctx.client.trigger(activationId);
    const [first] = await waitForFinishedRuns(ctx, activationId, 1);
    expect(first).toMatchObject({ status: 'succeeded', sourceRows: 25, newRows: 25, sent: 25, rejected: 0, failed: 0 });
    const { workflow_id } = await ctx.db.selectFrom('app.runs').select('workflow_id').where('id', '=', first?.runId ?? 0).executeTakeFirstOrThrow();
    // The run's row is final before its workflow has reported it: wait for the workflow too.
    await ctx.temporal.workflow.getHandle(workflow_id).result();
    const progress = await ctx.temporal.workflow.getHandle(workflow_id).query(progressQuery);
    expect(progress).toMatchObject({ runId: first?.runId, activationId, phase: 'done', toHandle: 25, sent: 25, rejected: 0, failed: 0, inFlight: 0, stopped: null });
    // The run's search attributes say how it went, for the UI's list and filters.
    const description = await ctx.temporal.workflow.getHandle(workflow_id).describe();
    expect(description.typedSearchAttributes.get(searchAttributes.outcome)).toBe('succeeded');
    expect(description.typedSearchAttributes.get(searchAttributes.destinationId)).toBe('e2e-destination');
    expect(description.typedSearchAttributes.get(searchAttributes.rejectedRows)).toBe(0);
    expect(description.typedSearchAttributes.get(searchAttributes.result)).toBe('25 new → 25 sent, 0 rejected, 0 failed');
    expect(await description.staticSummary()).toMatch(/e2e-orders: scheduled run \(every 1d\)/);

    const accepted = ctx.fake.accepted();
    expect(accepted).toHaveLength(25);
    const sample = accepted.find((invitation) => invitation.body.referenceNumber === 'O-000007');
    expect(sample?.businessUnitId).toBe(FAKE_DEFAULTS.businessUnitId);
    expect(sample?.body).toMatchObject({
      consumerEmail: 'customer7@shop.example.com',
      consumerName: 'Customer 7',
      referenceNumber: 'O-000007',
      locale: 'en-GB',
    });
    expect(sample?.body.productReviewInvitation).toBeUndefined();
    expect(new Set(accepted.map((invitation) => invitation.body.referenceNumber)).size).toBe(25);

    // The checkpoint is the newest created_at the run settled.
    const activation = await ctx.db.selectFrom('app.activations').select('watermark').where('id', '=', activationId).executeTakeFirstOrThrow();
    expect(activation.watermark).toBe((firstBatch.at(-1)?.created_at as Date).toISOString());
    expect(first?.watermarkAfter).toBe(activation.watermark);

    await ctx.warehouseAdmin.insertInto('shop.orders').values([order(101), order(102), order(103)]).execute();
    await ctx.client.trigger(activationId);
    const runs = await waitForFinishedRuns(ctx, activationId, 2);
    expect(runs[1]).toMatchObject({ status: 'succeeded', newRows: 3, sent: 3, watermarkBefore: activation.watermark });
    expect(ctx.fake.accepted()).toHaveLength(28);
    expect(ctx.fake.accepted().slice(25).map((invitation) => invitation.body.referenceNumber).sort()).toEqual(['O-000101', 'O-000102', 'O-000103']);
    expect(ctx.fake.duplicates()).toEqual([]);
  });

  it('keeps emails and names out of workflow history', async () => {
    const runs = await ctx.client.runs({ activationId: activationId, limit: 10 });
    expect(runs.length).toBeGreaterThan(0);
    const workflowIds = await ctx.db.selectFrom('app.runs').select('workflow_id').where('activation_id', '=', activationId).execute();
    for (const { workflow_id } of workflowIds) {
      const history = await ctx.temporal.workflow.getHandle(workflow_id).fetchHistory();
      const text = historyText(history);
      expect(text).toContain('activationRun');
      expect(text).not.toMatch(/@shop\.example\.com/);
      expect(text).not.toMatch(/Customer \d+/);
    }
  });
});
