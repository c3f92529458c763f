import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveActivation, saveDestination } from '../../src/db/config-store.ts';
import type { AcceptedInvitation } from '../../src/fake-trustpilot/server.ts';
import { createOrdersTable, createTestContext, order, orderActivation, serviceDestination, type TestContext, runToEnd } from './harness.ts';
import { killAllWorkers, spawnWorker, workerEnvFor } from './processes.ts';

// Trustpilot's 833 calls / 5 minutes, scaled down for test time: 40 calls / 4 s.
const LIMIT = { calls: 40, perSeconds: 4 };
const ALLOWANCE_PER_SECOND = LIMIT.calls / LIMIT.perSeconds;

function ratePerSecond(invitations: AcceptedInvitation[]): number {
  const times = invitations.map((invitation) => Date.parse(invitation.receivedAt)).sort((a, b) => a - b);
  const first = times[0] ?? 0;
  const last = times.at(-1) ?? 0;
  return (times.length - 1) / ((last - first) / 1000);
}

function activation(id: string, table: string, destinationId: string): Record<string, unknown> {
  // Enough calls waiting for their slot that a slow moment (or a continue-as-new) does not leave one unused.
  return orderActivation(id, destinationId, { kind: 'table', schema: 'shop', name: table }, { concurrency: 16 });
}

describe('pacing shared by every worker process per credential set', () => {
  let ctx: TestContext;

  beforeAll(async () => {
    // The machine to itself: a neighbour file's load would be measured as lost allowance.
    ctx = await createTestContext('pacing', { rateLimit: { limit: LIMIT.calls, windowSeconds: LIMIT.perSeconds } }, { machine: 'exclusive' });
    const workers = [spawnWorker('a', workerEnvFor(ctx)), spawnWorker('b', workerEnvFor(ctx))];
    await Promise.all(workers.map((worker) => worker.ready()));
    await createOrdersTable(ctx, 'orders_one', Array.from({ length: 80 }, (_, index) => order(index + 1)));
    await createOrdersTable(ctx, 'orders_two', Array.from({ length: 40 }, (_, index) => order(1000 + index)));
    await createOrdersTable(ctx, 'orders_three', Array.from({ length: 40 }, (_, index) => order(2000 + index)));
    // Two destinations (two business units' worth of settings) on ONE Trustpilot application.
    for (const id of ['pacing-one', 'pacing-two']) {
      await saveDestination(ctx.db, serviceDestination(id, { rateLimit: LIMIT }));
    }
    await saveActivation(ctx.db, activation('paced', 'orders_one', 'pacing-one'));
    await saveActivation(ctx.db, activation('shared-a', 'orders_two', 'pacing-one'));
    await saveActivation(ctx.db, activation('shared-b', 'orders_three', 'pacing-two'));
  });
  afterAll(async () => {
    await killAllWorkers();
    await ctx.close();
  });

  it('a run at the limit, served by two worker processes, gets no 429 and uses at least 90% of the allowance', async () => {
    const summary = await runToEnd(ctx, 'paced');
    const accepted = ctx.fake.accepted();
    const rate = ratePerSecond(accepted);
    console.log(`pacing, one activation: ${accepted.length} calls at ${rate.toFixed(2)}/s of ${ALLOWANCE_PER_SECOND}/s allowed, ${JSON.stringify(ctx.fake.stats().byStatus)}`);
    expect(summary).toMatchObject({ status: 'succeeded', sent: 80 });
    expect(ctx.fake.stats().byStatus['429'] ?? 0).toBe(0);
    expect(rate).toBeGreaterThanOrEqual(0.9 * ALLOWANCE_PER_SECOND);
    expect(rate).toBeLessThanOrEqual(ALLOWANCE_PER_SECOND);
    // Both processes sent invitations: the activity tasks were started by two worker identities.
    const identities = new Set<string>();
    const [run] = await ctx.db.selectFrom('app.runs').select('workflow_id').where('activation_id', '=', 'paced').execute();
    for await (const execution of ctx.temporal.workflow.list({ query: `WorkflowId = '${run?.workflow_id ?? ''}'` })) {
      const history = await ctx.temporal.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
      for (const event of history.events ?? []) {
        const identity = event.activityTaskStartedEventAttributes?.identity;
        if (identity) identities.add(identity);
      }
    }
    expect(identities.size).toBe(2);
  });

  it('two activations on one credential set share the allowance', async () => {
    ctx.fake.clear();
    const [a, b] = await Promise.all([runToEnd(ctx, 'shared-a'), runToEnd(ctx, 'shared-b')]);
    const accepted = ctx.fake.accepted();
    const rate = ratePerSecond(accepted);
    console.log(`pacing, two activations: ${accepted.length} calls at ${rate.toFixed(2)}/s of ${ALLOWANCE_PER_SECOND}/s allowed, ${JSON.stringify(ctx.fake.stats().byStatus)}`);
    expect(a).toMatchObject({ status: 'succeeded', sent: 40 });
    expect(b).toMatchObject({ status: 'succeeded', sent: 40 });
    expect(ctx.fake.stats().byStatus['429'] ?? 0).toBe(0);
    expect(rate).toBeGreaterThanOrEqual(0.9 * ALLOWANCE_PER_SECOND);
    expect(rate).toBeLessThanOrEqual(ALLOWANCE_PER_SECOND);
  });
});
