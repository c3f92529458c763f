import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_ROW_KEY_BYTES } from '../../src/domain/run-summary.ts';
import { dryRun, type DryRunReport } from '../../src/preview/dry-run.ts';
import type { RunSummary } from '../../src/run/types.ts';
import { acceptedReferences, createTestContext, ledgerByKey, runToEnd, saveServiceActivation, segmentRow, type TestContext } from './harness.ts';

const SEGMENT = { kind: 'view', schema: 'shop', name: 'agree' } as const;
// Pacing is not under test here.
const UNPACED = { rateLimit: { calls: 100_000, perSeconds: 1 } };
const SAMPLE = 100;

/** A segment row; `email` overrides the valid one `segmentRow` gives. */
function row(prefix: string, index: number, email?: string): Record<string, unknown> {
  const { order_id, customer_name, customer_email } = segmentRow(prefix, index);
  return { order_id, customer_name, customer_email: email ?? customer_email };
}

/** The dry-run's counts under the run summary's names, for a field-by-field comparison. */
function previewed(report: DryRunReport) {
  return {
    fullScan: report.fullScan,
    sourceRows: report.scanned.rows,
    duplicateKeys: report.scanned.duplicateKeys,
    nullKeys: report.scanned.nullKeys,
    oversizedKeys: report.scanned.oversizedKeys,
    newRows: report.newRows,
    baselineRows: report.baselineRows,
    reconsidered: report.reconsideredRows,
    skippedAlreadySent: report.alreadySent,
    retriedRows: report.retriedRows,
    abandoned: report.abandonedRows,
    rejected: report.sample.rejected,
  };
}

function reported(summary: RunSummary): ReturnType<typeof previewed> {
  const { fullScan, sourceRows, duplicateKeys, nullKeys, oversizedKeys, newRows, baselineRows, reconsidered, skippedAlreadySent, retriedRows, abandoned, rejected } =
    summary;
  return { fullScan, sourceRows, duplicateKeys, nullKeys, oversizedKeys, newRows, baselineRows, reconsidered, skippedAlreadySent, retriedRows, abandoned, rejected };
}

/** A dry-run, then a real run of the same segment: the preview must announce what the run then does. */
describe('a dry-run agrees with the run that follows it', () => {
  let ctx: TestContext;

  beforeAll(async () => {
    ctx = await createTestContext('dry-run-agrees', { rateLimit: null });
    await ctx.startWorker();
    // No unique constraint anywhere: the view repeats whatever the table holds, NULL keys included.
    await sql`create table shop.agree_raw (order_id text, customer_name text, customer_email text)`.execute(ctx.db);
    await sql`create view shop.agree as select * from shop.agree_raw`.execute(ctx.db);
  });
  afterAll(async () => {
    await ctx.close();
  });

  const insert = async (rows: Record<string, unknown>[]) => {
    await ctx.warehouseAdmin.insertInto('shop.agree_raw').values(rows).execute();
  };
  const preview = async (activationId: string) => await dryRun({ db: ctx.db, appPool: ctx.appPool, warehouses: ctx.warehouses }, activationId, { sample: SAMPLE });
  /** Every call is refused with a 429 (Retry-After 0 s): the run's rows end failed within seconds, none in doubt. */
  const withTrustpilotRefusing = async <T>(work: () => Promise<T>): Promise<T> => {
    ctx.fake.setFaults({ errorRates: { 429: 1 }, retryAfterSeconds: 0 });
    try {
      return await work();
    } finally {
      ctx.fake.setFaults({});
    }
  };

  it('on every count, for a segment holding every kind of row, under send_all and then under baseline', async () => {
    // One retrying run allowed: a row that failed on two runs is given up by the third.
    await saveServiceActivation(ctx, 'agree', SEGMENT, { destination: UNPACED, activation: { maxRunsForFailedRows: 1 } });

    // Run 1: three rows sent, three rejected for a malformed email.
    await insert([1, 2, 3].map((n) => row('SN', n)));
    await insert([1, 2, 3].map((n) => row('RJ', n, `rj.${n}@@shop.example.com`)));
    expect(await runToEnd(ctx, 'agree')).toMatchObject({ status: 'succeeded', newRows: 6, sent: 3, rejected: 3 });

    // Runs 2 and 3, Trustpilot refusing: AB rows fail on both (their allowance spent), RT rows on the third only.
    await insert([1, 2].map((n) => row('AB', n)));
    expect(await withTrustpilotRefusing(() => runToEnd(ctx, 'agree'))).toMatchObject({ status: 'succeeded', newRows: 2, failed: 2 });
    await insert([1, 2].map((n) => row('RT', n)));
    expect(await withTrustpilotRefusing(() => runToEnd(ctx, 'agree'))).toMatchObject({ status: 'succeeded', newRows: 2, retriedRows: 2, failed: 4 });
    const attempts = await ctx.db.selectFrom('app.ledger').select(['row_key', 'status', 'runs_attempted']).where('activation_id', '=', 'agree').where('status', '=', 'failed').orderBy('row_key').execute();
    expect(attempts.map((entry) => [entry.row_key, entry.runs_attempted])).toEqual([
      ['AB-001', 1],
      ['AB-002', 1],
      ['RT-001', 0],
      ['RT-002', 0],
    ]);

    // Since then: RJ-001 fixed, RJ-002 changed but still malformed, RJ-003 untouched; new rows, one of
    // them malformed; a new key and a sent key repeated; two rows without a key; one key too long.
    await ctx.warehouseAdmin.updateTable('shop.agree_raw').set({ customer_email: 'rj.1@shop.example.com' }).where('order_id', '=', 'RJ-001').execute();
    await ctx.warehouseAdmin.updateTable('shop.agree_raw').set({ customer_email: 'rj.2(at)shop.example.com' }).where('order_id', '=', 'RJ-002').execute();
    await insert([...[1, 2, 3].map((n) => row('NW', n)), row('NW', 4, 'nw.4@@shop.example.com')]);
    await insert([row('NW', 1), row('SN', 1)]);
    await insert([
      { order_id: null, customer_name: 'Nobody One', customer_email: 'nobody.1@shop.example.com' },
      { order_id: null, customer_name: 'Nobody Two', customer_email: 'nobody.2@shop.example.com' },
    ]);
    await insert([{ order_id: `LK-${'x'.repeat(MAX_ROW_KEY_BYTES)}`, customer_name: 'Long Key', customer_email: 'long.key@shop.example.com' }]);

    const ledgerBefore = await ledgerByKey(ctx, 'agree');
    const report = await preview('agree');
    // Nothing recorded by the preview.
    expect(await ledgerByKey(ctx, 'agree')).toEqual(ledgerBefore);
    expect(previewed(report)).toEqual({
      fullScan: true,
      // 3 SN + 3 RJ + 2 AB + 2 RT + 4 NW, 2 repeats, 2 without a key, 1 key too long
      sourceRows: 19,
      duplicateKeys: 2,
      nullKeys: 2,
      oversizedKeys: 1,
      // NW-001..004, and RJ-001 and RJ-002 reconsidered
      newRows: 6,
      baselineRows: 0,
      reconsidered: 2,
      skippedAlreadySent: 3,
      retriedRows: 2,
      abandoned: 2,
      // NW-004 and RJ-002
      rejected: 2,
    });
    expect(report).toMatchObject({ firstRunBaseline: false, scanned: { distinctKeys: 14 }, sample: { size: 6, valid: 4 } });
    expect(report.sample.rejectionsByReason).toEqual([{ reason: expect.stringMatching(/^consumerEmail: /) as unknown, count: 2 }]);

    const run = await runToEnd(ctx, 'agree');
    expect(run.status).toBe('succeeded');
    expect(reported(run)).toEqual(previewed(report));
    // The rows the sample found valid, and the retried ones, are what was sent.
    expect(run).toMatchObject({ sent: report.sample.valid + report.retriedRows, failed: 0 });
    const ledger = await ledgerByKey(ctx, 'agree');
    expect(['AB-001', 'AB-002'].map((key) => ledger.get(key)?.status)).toEqual(['abandoned', 'abandoned']);
    expect(['RJ-001', 'RJ-002', 'RJ-003'].map((key) => ledger.get(key)?.status)).toEqual(['sent', 'rejected', 'rejected']);
    expect(acceptedReferences(ctx, 'SN')).toHaveLength(3);

    // A second activation over the same segment, whose first run records what is there as baseline.
    await saveServiceActivation(ctx, 'agree-baseline', SEGMENT, { destination: UNPACED, activation: { firstRunPolicy: 'baseline' } });
    const baselineReport = await preview('agree-baseline');
    expect(previewed(baselineReport)).toEqual({
      fullScan: true,
      sourceRows: 19,
      duplicateKeys: 2,
      nullKeys: 2,
      oversizedKeys: 1,
      newRows: 0,
      baselineRows: 14,
      reconsidered: 0,
      skippedAlreadySent: 0,
      retriedRows: 0,
      abandoned: 0,
      rejected: 0,
    });
    // Nothing is built on a baseline run, so nothing is sampled.
    expect(baselineReport).toMatchObject({ firstRunBaseline: true, sample: { size: 0, valid: 0 } });
    const baselineRun = await runToEnd(ctx, 'agree-baseline');
    expect(baselineRun).toMatchObject({ status: 'succeeded', sent: 0 });
    expect(reported(baselineRun)).toEqual(previewed(baselineReport));

    // Once a run has succeeded, later rows are invited.
    await insert([row('LT', 1)]);
    const laterReport = await preview('agree-baseline');
    expect(previewed(laterReport)).toMatchObject({ newRows: 1, baselineRows: 0, sourceRows: 20 });
    expect(laterReport).toMatchObject({ firstRunBaseline: false, sample: { size: 1, valid: 1 } });
    const laterRun = await runToEnd(ctx, 'agree-baseline');
    expect(laterRun).toMatchObject({ status: 'succeeded', sent: 1 });
    expect(reported(laterRun)).toEqual(previewed(laterReport));
  });
});
