import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seconds } from '../fixtures.ts';
import { createOrdersTable, createTestContext, order, saveServiceActivation, type TestContext, runToEnd } from './harness.ts';

const ROWS = 80;

describe('Trustpilot misbehaving during a run', () => {
  let ctx: TestContext;

  beforeAll(async () => {
    ctx = await createTestContext('faults', { rateLimit: null });
    await ctx.startWorker();
    await createOrdersTable(ctx, 'orders', Array.from({ length: ROWS }, (_, index) => order(index + 1)));
    await saveServiceActivation(ctx, 'faults', { kind: 'table', schema: 'shop', name: 'orders' }, {
      // The circuit breaker is not under test here (runs-end tests it): these storms must be ridden out.
      destination: { rateLimit: { calls: 40, perSeconds: 1 }, circuitBreaker: { failuresInARow: 1_000 } },
    });
  });
  afterAll(async () => {
    await ctx.close();
  });

  it('rides out 5xx, then a 429 storm, then accepted-but-dropped calls: nothing lost, duplicates only where in doubt', async () => {
    // 5xx first (some with HTML or empty bodies), then 429s with Retry-After, then the duplicate window.
    ctx.fake.setFaults({ errorRates: { 500: 0.4, 503: 0.3, 520: 0.2 } });
    const phases = [
      setTimeout(() => ctx.fake.setFaults({ errorRates: { 429: 0.8 }, retryAfterSeconds: 1 }), 1_500),
      setTimeout(() => ctx.fake.setFaults({ acceptThenDropRate: 0.3 }), 3_000),
      setTimeout(() => ctx.fake.setFaults({}), 4_500),
    ];
    const started = Date.now();
    let summary;
    try {
      summary = await runToEnd(ctx, 'faults');
    } finally {
      phases.forEach(clearTimeout);
      ctx.fake.setFaults({});
    }
    const stats = ctx.fake.stats();
    const accepted = ctx.fake.accepted();
    const duplicates = ctx.fake.duplicates();
    const inDoubt = await ctx.db
      .selectFrom('app.ledger')
      .select(['row_key', 'status'])
      .where('activation_id', '=', 'faults')
      .where('in_doubt', '=', true)
      .execute();
    console.log(
      `faults: ${seconds(Date.now() - started)}, requests ${stats.requests}, by status ${JSON.stringify(stats.byStatus)}, ` +
        `dropped after accepting ${stats.dropped}, rows in doubt ${inDoubt.length}, duplicates received ${duplicates.length}`,
    );

    expect(summary.status).toBe('succeeded');
    expect(summary.sent).toBe(ROWS);
    expect(summary.failed).toBe(0);
    // Faults really happened.
    expect(Object.keys(stats.byStatus).filter((status) => status.startsWith('5')).length).toBeGreaterThan(0);
    expect(stats.byStatus['429'] ?? 0).toBeGreaterThan(0);
    // Every row arrived at least once.
    expect(new Set(accepted.map((invitation) => invitation.body.referenceNumber)).size).toBe(ROWS);
    // A duplicate is only ever a row whose earlier call's outcome was unknown, and the run says so.
    const inDoubtKeys = new Set(inDoubt.map((row) => row.row_key));
    for (const duplicate of duplicates) expect(inDoubtKeys.has(duplicate.referenceNumber)).toBe(true);
    expect(summary.inDoubt).toBe(inDoubt.length);
    expect(accepted.length - ROWS).toBe(duplicates.reduce((total, duplicate) => total + duplicate.count - 1, 0));
    const ledger = await ctx.db
      .selectFrom('app.ledger')
      .select((eb) => ['status', eb.fn.countAll<number>().as('count')])
      .where('activation_id', '=', 'faults')
      .groupBy('status')
      .execute();
    expect(ledger).toEqual([{ status: 'sent', count: ROWS }]);
  });
});
