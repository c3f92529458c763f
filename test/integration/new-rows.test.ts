import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveActivation, saveDestination } from '../../src/db/config-store.ts';
import type { ActivationConfigInput } from '../../src/domain/index.ts';
import { testRow } from '../../src/preview/test-row.ts';
import {
  FAST_PACING,
  ORDER_MAPPING,
  acceptedReferences,
  createOrdersTable,
  createTestContext,
  ledgerByKey,
  orderActivation,
  segmentRow,
  serviceDestination,
  type TestContext,
  runToEnd,
} from './harness.ts';

/** Small pages, so that every scan below crosses several page boundaries. */
const PAGE_SIZE = 5;
const DESTINATION = 'new-rows';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** How each run decides which source rows are new: one activation and one source table per behaviour. */
describe('what a run considers new', () => {
  let ctx: TestContext;

  beforeAll(async () => {
    ctx = await createTestContext('new-rows', { rateLimit: null });
    await ctx.startWorker({ claimBatchSize: PAGE_SIZE });
    await saveDestination(ctx.db, serviceDestination(DESTINATION, FAST_PACING));
  });
  afterAll(async () => {
    await ctx.close();
  });

  async function activate(id: string, source: ActivationConfigInput['source'], extra: Partial<ActivationConfigInput> = {}): Promise<void> {
    await saveActivation(ctx.db, orderActivation(id, DESTINATION, source, { mapping: { ...ORDER_MAPPING, locale: 'locale' }, ...extra }));
  }
  const table = (name: string) => ({ kind: 'table' as const, schema: 'shop', name });
  const sorted = (values: Iterable<string>) => [...values].sort();

  it('finds late-arriving rows within the cursor look-back, and every late row without a cursor', async () => {
    // Five rows created 10..6 minutes ago; the newest becomes the watermark.
    const base = Date.now() - 11 * MINUTE;
    const initial = (prefix: string) => Array.from({ length: 5 }, (_, index) => segmentRow(prefix, index + 1, new Date(base + (index + 1) * MINUTE)));
    await createOrdersTable(ctx, 'late_cursor', initial('LC'));
    await createOrdersTable(ctx, 'late_full', initial('LF'));
    await activate('late-cursor', table('late_cursor'), { cursor: { column: 'created_at', lookback: '1h' } });
    await activate('late-full', table('late_full'));

    const first = await runToEnd(ctx, 'late-cursor');
    const watermark = new Date(base + 5 * MINUTE);
    expect(first).toMatchObject({ status: 'succeeded', newRows: 5, sent: 5, watermarkBefore: null, watermarkAfter: watermark.toISOString() });
    expect(await runToEnd(ctx, 'late-full')).toMatchObject({ status: 'succeeded', newRows: 5, sent: 5, watermarkAfter: null });

    // Rows committed late, with timestamps older than the watermark: one inside the 1 h look-back, one 3 h back.
    const withinLookback = new Date(watermark.getTime() - 30 * MINUTE);
    const beyondLookback = new Date(watermark.getTime() - 3 * HOUR);
    await ctx.warehouseAdmin.insertInto('shop.late_cursor').values([segmentRow('LC', 6, withinLookback), segmentRow('LC', 7, beyondLookback)]).execute();
    await ctx.warehouseAdmin.insertInto('shop.late_full').values([segmentRow('LF', 6, withinLookback), segmentRow('LF', 7, beyondLookback)]).execute();

    // With the cursor: the scan starts at watermark − 1 h, so it reads the five old rows and LC-006 only.
    const second = await runToEnd(ctx, 'late-cursor');
    expect(second).toMatchObject({
      status: 'succeeded',
      watermarkBefore: watermark.toISOString(),
      // The watermark never moves back for a late row.
      watermarkAfter: watermark.toISOString(),
      sourceRows: 6,
      newRows: 1,
      sent: 1,
      skippedAlreadySent: 5,
    });
    // By design, a row older than watermark − look-back is not scanned at all: not in the ledger, never sent.
    const third = await runToEnd(ctx, 'late-cursor');
    expect(third).toMatchObject({ status: 'succeeded', sourceRows: 6, newRows: 0, sent: 0 });
    const cursorLedger = await ledgerByKey(ctx, 'late-cursor');
    expect(cursorLedger.get('LC-006')?.status).toBe('sent');
    expect(cursorLedger.has('LC-007')).toBe(false);
    expect(sorted(acceptedReferences(ctx, 'LC'))).toEqual(['LC-001', 'LC-002', 'LC-003', 'LC-004', 'LC-005', 'LC-006']);

    // Without a cursor every run diffs the whole segment against the ledger: both late rows are found.
    const full = await runToEnd(ctx, 'late-full');
    expect(full).toMatchObject({ status: 'succeeded', sourceRows: 7, newRows: 2, sent: 2, skippedAlreadySent: 5 });
    expect(sorted(acceptedReferences(ctx, 'LF'))).toEqual(['LF-001', 'LF-002', 'LF-003', 'LF-004', 'LF-005', 'LF-006', 'LF-007']);
  });

  it('treats every composite primary key as its own invitation, and sends none twice', async () => {
    await sql`
      create table shop.order_lines (
        order_id text not null, line_no integer not null, line_ref text not null,
        customer_name text not null, customer_email text not null, locale text not null,
        primary key (order_id, line_no)
      )`.execute(ctx.db);
    // Lines of one order share its customer; CP-3's three lines straddle the first page boundary.
    const lines: [string, number][] = [['CP-1', 1], ['CP-1', 2], ['CP-2', 1], ['CP-3', 1], ['CP-3', 2], ['CP-3', 3], ['CP-4', 1], ['CP-4', 2]];
    await ctx.warehouseAdmin
      .insertInto('shop.order_lines')
      .values(
        lines.map(([orderId, lineNo]) => ({
          order_id: orderId,
          line_no: lineNo,
          line_ref: `${orderId}/${lineNo}`,
          customer_name: `Buyer ${orderId}`,
          customer_email: `${orderId.toLowerCase()}@shop.example.com`,
          locale: 'en-GB',
        })),
      )
      .execute();
    await activate('order-lines', table('order_lines'), {
      primaryKey: ['order_id', 'line_no'],
      mapping: { consumerName: 'customer_name', consumerEmail: 'customer_email', referenceNumber: 'line_ref', locale: 'locale' },
    });

    const first = await runToEnd(ctx, 'order-lines');
    expect(first).toMatchObject({ status: 'succeeded', sourceRows: 8, newRows: 8, duplicateKeys: 0, sent: 8 });
    const ledger = await ledgerByKey(ctx, 'order-lines');
    expect(sorted(ledger.keys())).toEqual(sorted(lines.map(([orderId, lineNo]) => JSON.stringify([orderId, String(lineNo)]))));
    expect([...ledger.values()].every((entry) => entry.status === 'sent')).toBe(true);
    expect(sorted(acceptedReferences(ctx, 'CP'))).toEqual(sorted(lines.map(([orderId, lineNo]) => `${orderId}/${lineNo}`)));

    const second = await runToEnd(ctx, 'order-lines');
    expect(second).toMatchObject({ status: 'succeeded', sourceRows: 8, newRows: 0, sent: 0, skippedAlreadySent: 8 });
    expect(acceptedReferences(ctx, 'CP')).toHaveLength(8);
  });

  it('counts duplicate primary keys in the source, including across page boundaries, and invites each key once', async () => {
    // No unique constraint anywhere: the view repeats whatever the table holds.
    await sql`
      create table shop.dup_orders_raw (
        order_id text not null, customer_name text not null, customer_email text not null, locale text not null
      )`.execute(ctx.db);
    await sql`create view shop.dup_orders as select * from shop.dup_orders_raw`.execute(ctx.db);
    // DK-005, DK-009 and DK-014 twice, DK-011 three times: 5 extra rows over 20 keys. With pages of 5
    // (each page re-reading the previous page's last key), DK-005 and DK-011 straddle a page boundary
    // and DK-009 and DK-014 repeat inside one page.
    const copies: Record<number, number> = { 5: 2, 9: 2, 11: 3, 14: 2 };
    const rows = Array.from({ length: 20 }, (_, index) => index + 1).flatMap((n) => {
      const { order_id, customer_name, customer_email, locale } = segmentRow('DK', n);
      return Array.from({ length: copies[n] ?? 1 }, () => ({ order_id, customer_name, customer_email, locale }));
    });
    expect(rows).toHaveLength(25);
    // Inserted in reverse, so that physical order says nothing about key order.
    await ctx.warehouseAdmin.insertInto('shop.dup_orders_raw').values(rows.reverse()).execute();
    await activate('dup-orders', { kind: 'view', schema: 'shop', name: 'dup_orders' });

    const first = await runToEnd(ctx, 'dup-orders');
    expect(first).toMatchObject({ status: 'succeeded', sourceRows: 25, duplicateKeys: 5, newRows: 20, sent: 20, failed: 0 });
    const accepted = acceptedReferences(ctx, 'DK');
    expect(accepted).toHaveLength(20);
    expect(new Set(accepted).size).toBe(20);
    expect(ctx.fake.duplicates().filter((duplicate) => duplicate.referenceNumber.startsWith('DK-'))).toEqual([]);
    const ledger = await ledgerByKey(ctx, 'dup-orders');
    expect(ledger.size).toBe(20);

    // The duplicates are reported again (they are still there) and still not sent twice.
    const second = await runToEnd(ctx, 'dup-orders');
    expect(second).toMatchObject({ status: 'succeeded', sourceRows: 25, duplicateKeys: 5, newRows: 0, sent: 0 });
    expect(acceptedReferences(ctx, 'DK')).toHaveLength(20);
  });

  it("under firstRunPolicy 'baseline' records the existing rows without sending them, and sends only later rows", async () => {
    await createOrdersTable(ctx, 'baseline_orders', Array.from({ length: 7 }, (_, index) => segmentRow('BL', index + 1)));
    await activate('baseline-orders', table('baseline_orders'), { firstRunPolicy: 'baseline' });

    const first = await runToEnd(ctx, 'baseline-orders');
    expect(first).toMatchObject({ status: 'succeeded', sourceRows: 7, baselineRows: 7, newRows: 0, sent: 0 });
    const baselined = await ledgerByKey(ctx, 'baseline-orders');
    expect(sorted(baselined.keys())).toEqual(['BL-001', 'BL-002', 'BL-003', 'BL-004', 'BL-005', 'BL-006', 'BL-007']);
    expect([...baselined.values()].every((entry) => entry.status === 'baseline')).toBe(true);
    expect(acceptedReferences(ctx, 'BL')).toEqual([]);

    await ctx.warehouseAdmin.insertInto('shop.baseline_orders').values([segmentRow('BL', 8), segmentRow('BL', 9)]).execute();
    const second = await runToEnd(ctx, 'baseline-orders');
    expect(second).toMatchObject({ status: 'succeeded', sourceRows: 9, baselineRows: 0, newRows: 2, sent: 2 });
    const third = await runToEnd(ctx, 'baseline-orders');
    expect(third).toMatchObject({ status: 'succeeded', newRows: 0, sent: 0 });

    expect(sorted(acceptedReferences(ctx, 'BL'))).toEqual(['BL-008', 'BL-009']);
    const ledger = await ledgerByKey(ctx, 'baseline-orders');
    expect([...ledger].filter(([, entry]) => entry.status === 'baseline').map(([key]) => key)).toHaveLength(7);
  });

  it("under firstRunPolicy 'baseline', a row sent first by `test-row --send` does not make the first scan a later one", async () => {
    await createOrdersTable(ctx, 'baseline_tested', Array.from({ length: 5 }, (_, index) => segmentRow('BT', index + 1)));
    await activate('baseline-tested', table('baseline_tested'), { firstRunPolicy: 'baseline' });
    const tried = await testRow({ ...ctx.activityDeps(), env: ctx.workerEnv }, 'baseline-tested', 'BT-002', { send: true });
    expect(tried.sent).toBeDefined();
    const first = await runToEnd(ctx, 'baseline-tested');
    // The existing rows are a baseline still: none but the one tried is invited.
    expect(first).toMatchObject({ status: 'succeeded', baselineRows: 4, newRows: 0, sent: 0 });
    expect(acceptedReferences(ctx, 'BT')).toEqual(['BT-002']);
  });

  it("under firstRunPolicy 'baseline' sends rows that arrive after a first run over an empty segment", async () => {
    await createOrdersTable(ctx, 'baseline_empty', []);
    await activate('baseline-empty', table('baseline_empty'), { firstRunPolicy: 'baseline' });

    const first = await runToEnd(ctx, 'baseline-empty');
    expect(first).toMatchObject({ status: 'succeeded', sourceRows: 0, baselineRows: 0, sent: 0 });

    // These rows did not exist when the baseline was taken: they are "later rows", to be invited.
    await ctx.warehouseAdmin.insertInto('shop.baseline_empty').values([segmentRow('BE', 1), segmentRow('BE', 2)]).execute();
    const second = await runToEnd(ctx, 'baseline-empty');
    expect(second).toMatchObject({ status: 'succeeded', sourceRows: 2, baselineRows: 0, newRows: 2, sent: 2 });
    expect(sorted(acceptedReferences(ctx, 'BE'))).toEqual(['BE-001', 'BE-002']);
  });

  it('retries rows that failed on a run on the next run, and abandons them after maxRunsForFailedRows retrying runs', async () => {
    // Every invitation call is refused with 429 and Retry-After: 0 s, so a run exhausts the activity's
    // attempts in seconds. (With 503 the activity backs off for about five minutes before giving up.)
    await createOrdersTable(ctx, 'retry_orders', Array.from({ length: 3 }, (_, index) => segmentRow('RT', index + 1)));
    await createOrdersTable(ctx, 'abandon_orders', Array.from({ length: 2 }, (_, index) => segmentRow('AB', index + 1)));
    await activate('retry-orders', table('retry_orders'));
    await activate('abandon-orders', table('abandon_orders'), { maxRunsForFailedRows: 1 });
    const refuseAll = () => ctx.fake.setFaults({ errorRates: { 429: 1 }, retryAfterSeconds: 0 });

    refuseAll();
    let failing, abandonFirst, abandonRetry;
    try {
      [failing, abandonFirst] = await Promise.all([runToEnd(ctx, 'retry-orders'), runToEnd(ctx, 'abandon-orders')]);
      // maxRunsForFailedRows: 1 = one later run retries the row (README: "runs that retry a row ...").
      abandonRetry = await runToEnd(ctx, 'abandon-orders');
    } finally {
      ctx.fake.setFaults({});
    }
    expect(failing).toMatchObject({ status: 'succeeded', newRows: 3, sent: 0, failed: 3 });
    const failedLedger = await ledgerByKey(ctx, 'retry-orders');
    expect([...failedLedger.values()].map((entry) => [entry.status, entry.errorClass])).toEqual([
      ['failed', 'retryable'],
      ['failed', 'retryable'],
      ['failed', 'retryable'],
    ]);
    expect(acceptedReferences(ctx, 'RT')).toEqual([]);
    expect(abandonFirst).toMatchObject({ status: 'succeeded', newRows: 2, sent: 0, failed: 2 });
    expect(abandonRetry).toMatchObject({ status: 'succeeded', newRows: 0, retriedRows: 2, abandoned: 0, sent: 0, failed: 2 });

    // Trustpilot is back: the failed rows are retried first, each sent exactly once.
    const retried = await runToEnd(ctx, 'retry-orders');
    // A 429 is refused before any work, so no row is in doubt (a 5xx would leave each one in doubt).
    expect(retried).toMatchObject({ status: 'succeeded', retriedRows: 3, newRows: 0, sent: 3, failed: 0, inDoubt: 0 });
    expect([...(await ledgerByKey(ctx, 'retry-orders')).values()].map((entry) => entry.status)).toEqual(['sent', 'sent', 'sent']);
    expect(sorted(acceptedReferences(ctx, 'RT'))).toEqual(['RT-001', 'RT-002', 'RT-003']);
    expect(await runToEnd(ctx, 'retry-orders')).toMatchObject({ status: 'succeeded', retriedRows: 0, newRows: 0, sent: 0 });

    // The rows of the activation allowing one retrying run have had it: abandoned, not sent, although Trustpilot is back.
    const abandoned = await runToEnd(ctx, 'abandon-orders');
    expect(abandoned).toMatchObject({ status: 'succeeded', retriedRows: 0, abandoned: 2, newRows: 0, sent: 0 });
    const abandonLedger = await ledgerByKey(ctx, 'abandon-orders');
    expect([...abandonLedger.values()].map((entry) => entry.status)).toEqual(['abandoned', 'abandoned']);
    for (const entry of abandonLedger.values()) expect(entry.errorMessage).toMatch(/gave up after 1 runs/);
    expect(await runToEnd(ctx, 'abandon-orders')).toMatchObject({ status: 'succeeded', retriedRows: 0, newRows: 0, sent: 0 });
    expect(acceptedReferences(ctx, 'AB')).toEqual([]);
  });

  it('reconsiders a rejected row only once its data is fixed in the source', async () => {
    const rows = [segmentRow('RJ', 1), { ...segmentRow('RJ', 2), customer_email: 'rj.two@@shop.example.com' }, segmentRow('RJ', 3)];
    await createOrdersTable(ctx, 'rejected_orders', rows);
    await activate('rejected-orders', table('rejected_orders'));

    const first = await runToEnd(ctx, 'rejected-orders');
    expect(first).toMatchObject({ status: 'succeeded', newRows: 3, sent: 2, rejected: 1 });
    const rejected = (await ledgerByKey(ctx, 'rejected-orders')).get('RJ-002');
    expect(rejected).toMatchObject({ status: 'rejected', errorClass: 'invalid_row' });
    expect(rejected?.errorMessage).toMatch(/consumerEmail/);
    // The reason names the field, never the value.
    expect(rejected?.errorMessage).not.toMatch(/@|rj\.two/);

    const unchanged = await runToEnd(ctx, 'rejected-orders');
    expect(unchanged).toMatchObject({ status: 'succeeded', newRows: 0, sent: 0, rejected: 0 });
    expect((await ledgerByKey(ctx, 'rejected-orders')).get('RJ-002')?.status).toBe('rejected');

    await ctx.warehouseAdmin.updateTable('shop.rejected_orders').set({ customer_email: 'rj.two@shop.example.com' }).where('order_id', '=', 'RJ-002').execute();
    const fixed = await runToEnd(ctx, 'rejected-orders');
    expect(fixed).toMatchObject({ status: 'succeeded', newRows: 1, sent: 1, rejected: 0 });
    expect(await runToEnd(ctx, 'rejected-orders')).toMatchObject({ status: 'succeeded', newRows: 0, sent: 0 });

    expect(sorted(acceptedReferences(ctx, 'RJ'))).toEqual(['RJ-001', 'RJ-002', 'RJ-003']);
    const resent = ctx.fake.accepted().find((invitation) => invitation.body.referenceNumber === 'RJ-002');
    expect(resent?.body.consumerEmail).toBe('rj.two@shop.example.com');
    expect((await ledgerByKey(ctx, 'rejected-orders')).get('RJ-002')).toMatchObject({ status: 'sent', errorMessage: null });
  });

  it('is insert-only: a sent row changed in the source is not sent again', async () => {
    await createOrdersTable(ctx, 'changed_orders', [segmentRow('UP', 1), segmentRow('UP', 2)]);
    await activate('changed-orders', table('changed_orders'));

    expect(await runToEnd(ctx, 'changed-orders')).toMatchObject({ status: 'succeeded', newRows: 2, sent: 2 });
    await ctx.warehouseAdmin
      .updateTable('shop.changed_orders')
      .set({ customer_name: 'Renamed Buyer', customer_email: 'renamed@shop.example.com' })
      .where('order_id', '=', 'UP-001')
      .execute();

    const second = await runToEnd(ctx, 'changed-orders');
    expect(second).toMatchObject({ status: 'succeeded', sourceRows: 2, newRows: 0, sent: 0, skippedAlreadySent: 2 });
    expect(sorted(acceptedReferences(ctx, 'UP'))).toEqual(['UP-001', 'UP-002']);
    const original = ctx.fake.accepted().find((invitation) => invitation.body.referenceNumber === 'UP-001');
    expect(original?.body.consumerName).toBe('Buyer UP 1');
  });
});
