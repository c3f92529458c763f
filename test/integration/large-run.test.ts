import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { FAST_PACING, createTestContext, saveServiceActivation, type TestContext, waitToEnd } from './harness.ts';

// CI runs a scaled-down segment; LARGE_RUN_ROWS=20000 runs the full-size one.
const ROWS = Number(process.env.LARGE_RUN_ROWS ?? 1200);

describe(`a run over ${ROWS} rows`, () => {
  let ctx: TestContext;

  beforeAll(async () => {
    ctx = await createTestContext('large', { rateLimit: null });
    await ctx.startWorker();
    await sql`create schema if not exists shop`.execute(ctx.db);
    await sql`
      create table shop.big_segment as
      select 'B-' || lpad(n::text, 6, '0') as order_id, 'Customer ' || n as customer_name,
             'big' || n || '@shop.example.com' as customer_email, now() - (n || ' seconds')::interval as created_at
      from generate_series(1, ${ROWS}) as n
    `.execute(ctx.db);
    await sql`alter table shop.big_segment add primary key (order_id)`.execute(ctx.db);
    await saveServiceActivation(ctx, 'large', { kind: 'table', schema: 'shop', name: 'big_segment' }, {
      destination: FAST_PACING,
      activation: { concurrency: 50 },
    });
  });
  afterAll(async () => {
    await ctx.close();
  });

  // About 100 rows/s on a small machine; the full-size run takes minutes.
  it('sends every row once, continuing as new so that no execution outgrows its history limit', { timeout: 120_000 + ROWS * 40 }, async () => {
    const started = Date.now();
    const handle = await ctx.client.start('large');
    const summary = await waitToEnd(ctx, handle.workflowId);
    const seconds = (Date.now() - started) / 1000;

    expect(summary).toMatchObject({ status: 'succeeded', sourceRows: ROWS, newRows: ROWS, sent: ROWS, failed: 0 });
    expect(new Set(ctx.fake.accepted().map((invitation) => invitation.body.referenceNumber)).size).toBe(ROWS);
    expect(ctx.fake.duplicates()).toEqual([]);

    const threshold = inject('continueAsNewThreshold');
    const executions = [];
    for await (const execution of ctx.temporal.workflow.list({ query: `WorkflowId = '${handle.workflowId}'` })) {
      const history = await ctx.temporal.workflow.getHandle(handle.workflowId, execution.runId).fetchHistory();
      executions.push(history.events?.length ?? 0);
    }
    console.log(
      `large run: ${ROWS} rows in ${seconds.toFixed(1)}s (${(ROWS / seconds).toFixed(0)} rows/s), ` +
        `${executions.length} executions, history events per execution max ${Math.max(...executions)} (suggestion at ${threshold})`,
    );
    expect(executions.length).toBeGreaterThan(1);
    // The suggestion comes at the threshold; the run then drains what is in flight (≤ concurrency activities).
    const drainAllowance = 50 * 3 + 20;
    for (const events of executions) expect(events).toBeLessThan(threshold + drainAllowance);
  });
});
