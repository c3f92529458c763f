import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveActivation } from '../../src/db/config-store.ts';
import { ORDER_MAPPING, createTestContext, historyText, orderActivation, saveServiceActivation, type TestContext, runToEnd } from './harness.ts';

describe('source edge cases', () => {
  let ctx: TestContext;

  beforeAll(async () => {
    ctx = await createTestContext('edges', { rateLimit: null });
    await ctx.startWorker();
    await sql`create schema if not exists shop`.execute(ctx.db);
  });
  afterAll(async () => {
    await ctx.close();
  });

  it('scans rows with no cursor value even after a watermark exists, and resets the watermark when the cursor column changes', async () => {
    await sql`create table shop.nullable (order_id text primary key, customer_name text, customer_email text, created_at timestamptz, updated_at timestamptz)`.execute(ctx.db);
    await sql`insert into shop.nullable values ('N-1', 'Nina One', 'n1@shop.example.com', now(), now())`.execute(ctx.db);
    await saveServiceActivation(ctx, 'nullable', { kind: 'table', schema: 'shop', name: 'nullable' }, {
      activation: { cursor: { column: 'created_at', lookback: '1m' } },
    });
    expect(await runToEnd(ctx, 'nullable')).toMatchObject({ status: 'succeeded', sent: 1 });
    await sql`insert into shop.nullable values ('N-2', 'Nina Two', 'n2@shop.example.com', null, null)`.execute(ctx.db);
    expect(await runToEnd(ctx, 'nullable')).toMatchObject({ status: 'succeeded', newRows: 1, sent: 1 });

    const before = await ctx.db.selectFrom('app.activations').select('watermark').where('id', '=', 'nullable').executeTakeFirstOrThrow();
    expect(before.watermark).not.toBeNull();
    await saveActivation(ctx.db, orderActivation('nullable', 'nullable', { kind: 'table', schema: 'shop', name: 'nullable' }, { cursor: { column: 'updated_at', lookback: '1m' } }));
    const after = await ctx.db.selectFrom('app.activations').select('watermark').where('id', '=', 'nullable').executeTakeFirstOrThrow();
    expect(after.watermark).toBeNull();
  });

  it('finds a row later than the look-back on the next full scan (cursor.fullScanEvery), and says which runs were full scans', async () => {
    await sql`create table shop.late (order_id text primary key, customer_name text, customer_email text, created_at timestamptz)`.execute(ctx.db);
    await sql`insert into shop.late values ('L-1', 'Lena One', 'l1@shop.example.com', now())`.execute(ctx.db);
    await saveServiceActivation(ctx, 'late', { kind: 'table', schema: 'shop', name: 'late' }, {
      activation: { cursor: { column: 'created_at', lookback: '1m', fullScanEvery: '1h' } },
    });
    expect(await runToEnd(ctx, 'late')).toMatchObject({ status: 'succeeded', fullScan: true, sent: 1 });
    // A row committed late: its cursor value lies a day behind the watermark, far beyond the look-back.
    await sql`insert into shop.late values ('L-2', 'Lena Two', 'l2@shop.example.com', now() - interval '1 day')`.execute(ctx.db);
    expect(await runToEnd(ctx, 'late')).toMatchObject({ status: 'succeeded', fullScan: false, sourceRows: 1, newRows: 0, sent: 0 });
    // An hour later (the last full scan made older than fullScanEvery), a run reads the whole segment.
    await sql`update app.activations set last_full_scan_at = now() - interval '2 hours' where id = 'late'`.execute(ctx.db);
    expect(await runToEnd(ctx, 'late')).toMatchObject({ status: 'succeeded', fullScan: true, sourceRows: 2, newRows: 1, sent: 1 });
    expect(await runToEnd(ctx, 'late')).toMatchObject({ status: 'succeeded', fullScan: false, newRows: 0 });
  });

  it('keeps bigint keys beyond 2^53 distinct', async () => {
    await sql`create table shop.bigkeys (order_id bigint primary key, customer_name text, customer_email text)`.execute(ctx.db);
    await sql`insert into shop.bigkeys values (9007199254740993, 'Big One', 'b1@shop.example.com'), (9007199254740994, 'Big Two', 'b2@shop.example.com')`.execute(ctx.db);
    await saveServiceActivation(ctx, 'bigkeys', { kind: 'table', schema: 'shop', name: 'bigkeys' });
    expect(await runToEnd(ctx, 'bigkeys')).toMatchObject({ status: 'succeeded', sent: 2, duplicateKeys: 0 });
    const keys = await ctx.db.selectFrom('app.ledger').select('row_key').where('activation_id', '=', 'bigkeys').orderBy('row_key').execute();
    expect(keys.map((row) => row.row_key)).toEqual(['9007199254740993', '9007199254740994']);
  });

  it('fails a run whose query hits bad data at once, without quoting the value', async () => {
    await sql`create table shop.badcast (order_id text primary key, customer_name text, customer_email text, amount text)`.execute(ctx.db);
    await sql`insert into shop.badcast values ('X-1', 'Xavier Secretname', 'x1@shop.example.com', 'Xavier Secretname')`.execute(ctx.db);
    // The bad cast feeds a mapped field: reading that row's data fails (a cast in a column nothing reads is never evaluated).
    await saveServiceActivation(
      ctx,
      'badcast',
      { kind: 'query', sql: 'select order_id, customer_name, customer_email, amount::integer as amount from shop.badcast' },
      { activation: { mapping: { ...ORDER_MAPPING, locationId: 'amount' } } },
    );
    const summary = await runToEnd(ctx, 'badcast');
    expect(summary.status).toBe('failed');
    expect(summary.error).toContain('SQLSTATE 22P02');
    expect(summary.error).not.toContain('Secretname');
    const { workflow_id } = await ctx.db.selectFrom('app.runs').select('workflow_id').where('id', '=', summary.runId).executeTakeFirstOrThrow();
    expect(historyText(await ctx.temporal.workflow.getHandle(workflow_id).fetchHistory())).not.toContain('Secretname');
  });
});
