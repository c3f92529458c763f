import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST_PACING, acceptedReferences, createTestContext, historyText, ledgerByKey, runToEnd, saveServiceActivation, segmentRow, type TestContext } from './harness.ts';
import { createMySqlOrders, createShopDatabase, insertRows, mariaDbVersion, type ShopDatabase } from './mysql-harness.ts';

/**
 * Activations over a MariaDB warehouse, end to end: the worker reads the shop's database through
 * the MySQL engine as a user granted SELECT on it alone, and every delivery guarantee holds as it
 * does for Postgres: each row invited exactly once, new rows sent on the next run, late rows found
 * by the periodic full scan, rejected rows reconsidered once fixed, NULL, duplicate and over-long
 * keys counted, composite keys; MySQL's own edges reach the ledger and the invitation as the README
 * says; a query reaching for files or locks, and a user granted more than SELECT after the worker
 * started, fail the run at once, quoting no row value.
 */

const HOUR = 3_600_000;

describe(`activations over MariaDB ${mariaDbVersion()}`, () => {
  let shop: ShopDatabase;
  let widened: { user: string; account: string; url: string };
  let ctx: TestContext;

  beforeAll(async () => {
    shop = await createShopDatabase('runs');
    // A second reader, granted more after the worker started (the last test).
    widened = await shop.createUser('tpi_wide', ['GRANT SELECT ON ?.* TO {user}']);
    ctx = await createTestContext('mysql-runs', { rateLimit: null }, { warehouseEnv: { WAREHOUSE_SHOP_URL: shop.reader.url, WAREHOUSE_WIDE_URL: widened.url } });
    await ctx.startWorker({ claimBatchSize: 5 });
  });
  afterAll(async () => {
    await ctx?.close();
    await shop?.close();
  });

  const table = (name: string, warehouse = 'shop') => ({ kind: 'table', warehouse, schema: shop.database, name });
  const query = (text: string) => ({ kind: 'query', warehouse: 'shop', sql: text });
  const rows = (prefix: string, from: number, to: number, createdAt?: Date) =>
    Array.from({ length: to - from + 1 }, (_, index) => segmentRow(prefix, from + index, createdAt));
  const runFailure = async (activationId: string, secret: string) => {
    const summary = await runToEnd(ctx, activationId);
    const { workflow_id: workflowId } = await ctx.db.selectFrom('app.runs').select('workflow_id').where('id', '=', summary.runId).executeTakeFirstOrThrow();
    expect(historyText(await ctx.temporal.workflow.getHandle(workflowId).fetchHistory())).not.toContain(secret);
    expect(summary.error ?? '').not.toContain(secret);
    return summary;
  };

  it('sends each row once; rows added later are sent on the next run, and nothing else', async () => {
    await createMySqlOrders(shop, 'orders', rows('MO', 1, 3));
    await saveServiceActivation(ctx, 'mysql-once', table('orders'), { destination: FAST_PACING });
    expect(await runToEnd(ctx, 'mysql-once')).toMatchObject({ status: 'succeeded', sourceRows: 3, newRows: 3, sent: 3 });
    expect(await runToEnd(ctx, 'mysql-once')).toMatchObject({ status: 'succeeded', sourceRows: 3, newRows: 0, sent: 0, skippedAlreadySent: 3 });
    await insertRows(shop, 'orders', rows('MO', 4, 5));
    expect(await runToEnd(ctx, 'mysql-once')).toMatchObject({ status: 'succeeded', sourceRows: 5, newRows: 2, sent: 2 });
    expect(await runToEnd(ctx, 'mysql-once')).toMatchObject({ status: 'succeeded', newRows: 0, sent: 0 });
    expect(acceptedReferences(ctx, 'MO').sort()).toEqual(['MO-001', 'MO-002', 'MO-003', 'MO-004', 'MO-005']);
  });

  it('finds a row later than the look-back on the next full scan (cursor.fullScanEvery)', async () => {
    const now = Date.now();
    await createMySqlOrders(shop, 'late_orders', rows('ML', 1, 2, new Date(now - HOUR)));
    await saveServiceActivation(ctx, 'mysql-late', table('late_orders'), {
      destination: FAST_PACING,
      activation: { cursor: { column: 'created_at', lookback: '1m', fullScanEvery: '1h' } },
    });
    expect(await runToEnd(ctx, 'mysql-late')).toMatchObject({ status: 'succeeded', fullScan: true, sent: 2 });
    // A row committed now whose cursor value lies a day behind the watermark, far beyond the look-back.
    await insertRows(shop, 'late_orders', rows('ML', 3, 3, new Date(now - 24 * HOUR)));
    expect(await runToEnd(ctx, 'mysql-late')).toMatchObject({ status: 'succeeded', fullScan: false, newRows: 0, sent: 0 });
    await sql`update app.activations set last_full_scan_at = now() - interval '2 hours' where id = 'mysql-late'`.execute(ctx.db);
    expect(await runToEnd(ctx, 'mysql-late')).toMatchObject({ status: 'succeeded', fullScan: true, sourceRows: 3, newRows: 1, sent: 1 });
    expect(acceptedReferences(ctx, 'ML').sort()).toEqual(['ML-001', 'ML-002', 'ML-003']);
  });

  it('reconsiders a rejected row once its data is fixed, and never sends a sent row again', async () => {
    await createMySqlOrders(shop, 'rejected_orders', [...rows('MR', 1, 1), { ...segmentRow('MR', 2), customer_email: 'mr.two@@shop.example.com' }]);
    await saveServiceActivation(ctx, 'mysql-rejected', table('rejected_orders'), { destination: FAST_PACING });
    expect(await runToEnd(ctx, 'mysql-rejected')).toMatchObject({ status: 'succeeded', newRows: 2, sent: 1, rejected: 1 });
    expect(await runToEnd(ctx, 'mysql-rejected')).toMatchObject({ status: 'succeeded', newRows: 0, sent: 0, rejected: 0 });
    await shop.admin.query(`UPDATE rejected_orders SET customer_email = 'mr.two@shop.example.com' WHERE order_id = 'MR-002'`);
    await shop.admin.query(`UPDATE rejected_orders SET customer_name = 'Renamed Buyer' WHERE order_id = 'MR-001'`);
    expect(await runToEnd(ctx, 'mysql-rejected')).toMatchObject({ status: 'succeeded', newRows: 1, sent: 1 });
    expect(await runToEnd(ctx, 'mysql-rejected')).toMatchObject({ status: 'succeeded', newRows: 0, sent: 0 });
    expect(acceptedReferences(ctx, 'MR').sort()).toEqual(['MR-001', 'MR-002']);
    expect(ctx.fake.accepted().find((invitation) => invitation.body.referenceNumber === 'MR-001')?.body.consumerName).toBe('Buyer MR 1');
  });

  it('counts NULL, duplicate and over-long keys, and sends every other row once', async () => {
    await shop.admin.query(`CREATE TABLE keyless (order_id VARCHAR(3000) NULL, customer_name VARCHAR(200), customer_email VARCHAR(200))`);
    const row = (id: string | null, n: number) => ({ order_id: id, customer_name: `Buyer MK ${n}`, customer_email: `mk.${n}@shop.example.com` });
    await insertRows(shop, 'keyless', [row('MK-001', 1), row('MK-002', 2), row('MK-003', 3), row('MK-002', 4), row(null, 5), row(`MK-${'x'.repeat(2_500)}`, 6)]);
    await saveServiceActivation(ctx, 'mysql-keys', table('keyless'), { destination: FAST_PACING });
    const first = await runToEnd(ctx, 'mysql-keys');
    expect(first).toMatchObject({ status: 'succeeded', sourceRows: 6, newRows: 3, sent: 3, duplicateKeys: 1, nullKeys: 1, oversizedKeys: 1 });
    expect(first.warnings.join(' ')).toMatch(/longer than 2048 bytes/);
    expect(await runToEnd(ctx, 'mysql-keys')).toMatchObject({ status: 'succeeded', newRows: 0, sent: 0, duplicateKeys: 1, nullKeys: 1, oversizedKeys: 1 });
    expect(acceptedReferences(ctx, 'MK').sort()).toEqual(['MK-001', 'MK-002', 'MK-003']);
  });

  it('treats every composite key as its own invitation, and sends none twice', async () => {
    await shop.admin.query(`CREATE TABLE order_lines (order_id VARCHAR(20) NOT NULL, line_no INT UNSIGNED NOT NULL, line_ref VARCHAR(40), customer_name VARCHAR(200), customer_email VARCHAR(200), PRIMARY KEY (order_id, line_no))`);
    const lines: [string, number][] = [['MC-1', 1], ['MC-1', 2], ['MC-2', 1], ['MC-3', 1], ['MC-3', 2], ['MC-3', 3]];
    await insertRows(shop, 'order_lines', lines.map(([orderId, lineNo]) => ({ order_id: orderId, line_no: lineNo, line_ref: `${orderId}/${lineNo}`, customer_name: `Buyer ${orderId}`, customer_email: `${orderId.toLowerCase()}@shop.example.com` })));
    await saveServiceActivation(ctx, 'mysql-lines', table('order_lines'), {
      destination: FAST_PACING,
      activation: { primaryKey: ['order_id', 'line_no'], mapping: { consumerName: 'customer_name', consumerEmail: 'customer_email', referenceNumber: 'line_ref' } },
    });
    expect(await runToEnd(ctx, 'mysql-lines')).toMatchObject({ status: 'succeeded', sourceRows: 6, newRows: 6, sent: 6, duplicateKeys: 0 });
    expect([...(await ledgerByKey(ctx, 'mysql-lines')).keys()].sort()).toEqual(lines.map(([orderId, lineNo]) => JSON.stringify([orderId, String(lineNo)])).sort());
    expect(await runToEnd(ctx, 'mysql-lines')).toMatchObject({ status: 'succeeded', newRows: 0, sent: 0, skippedAlreadySent: 6 });
    expect(acceptedReferences(ctx, 'MC')).toHaveLength(6);
  });

  it("MySQL's edges: exact BIGINT UNSIGNED keys, emoji names intact, case-insensitive twins as two keys, zero dates rejected per row", async () => {
    await shop.admin.query(`CREATE TABLE edge_orders (
      order_id BIGINT UNSIGNED NOT NULL, ref VARCHAR(20) COLLATE utf8mb4_general_ci, customer_name VARCHAR(200), customer_email VARCHAR(200),
      send_at DATETIME NULL) CHARACTER SET utf8mb4`);
    await shop.admin.query(`SET SESSION sql_mode = ''`);
    await shop.admin.query(`INSERT INTO edge_orders VALUES
      (18446744073709551615, 'ME-A1', 'Ana 🎉 Núñez', 'me.1@shop.example.com', '2030-01-01 10:00:00'),
      (9007199254740993, 'me-a1', 'Bo 🛒', 'me.2@shop.example.com', NULL),
      (9007199254740992, 'ME-Z', 'Zero Date', 'me.3@shop.example.com', '0000-00-00 00:00:00')`);
    await shop.admin.query(`SET SESSION sql_mode = DEFAULT`);
    const mapping = { consumerName: 'customer_name', consumerEmail: 'customer_email', referenceNumber: 'ref', servicePreferredSendTime: 'send_at' };
    await saveServiceActivation(ctx, 'mysql-edges', table('edge_orders'), { destination: FAST_PACING, activation: { mapping } });
    expect(await runToEnd(ctx, 'mysql-edges')).toMatchObject({ status: 'succeeded', sourceRows: 3, newRows: 3, sent: 2, rejected: 1 });
    const ledger = await ledgerByKey(ctx, 'mysql-edges');
    // Keys beyond 2^53 are the server's own decimal text, never rounded through a double.
    expect([...ledger.keys()].sort()).toEqual(['18446744073709551615', '9007199254740992', '9007199254740993']);
    expect(ledger.get('9007199254740992')).toMatchObject({ status: 'rejected' });
    expect(ledger.get('9007199254740992')?.errorMessage ?? '').not.toMatch(/0000/);
    const sent = Object.fromEntries(ctx.fake.accepted().filter((invitation) => /^me-/i.test(invitation.body.referenceNumber)).map((invitation) => [invitation.body.referenceNumber, invitation.body.consumerName]));
    expect(sent).toEqual({ 'ME-A1': 'Ana 🎉 Núñez', 'me-a1': 'Bo 🛒' });

    // Keyed by a case-insensitive column, 'MQ-A1' and 'mq-a1' (equal to MySQL) are two ledger keys, two invitations.
    await shop.admin.query(`CREATE TABLE ci_orders (ref VARCHAR(20) COLLATE utf8mb4_general_ci NOT NULL, customer_name VARCHAR(200), customer_email VARCHAR(200))`);
    await insertRows(shop, 'ci_orders', [
      { ref: 'MQ-A1', customer_name: 'Upper', customer_email: 'mq.upper@shop.example.com' },
      { ref: 'mq-a1', customer_name: 'Lower', customer_email: 'mq.lower@shop.example.com' },
    ]);
    await saveServiceActivation(ctx, 'mysql-ci', table('ci_orders'), { destination: FAST_PACING, activation: { primaryKey: 'ref', mapping: { consumerName: 'customer_name', consumerEmail: 'customer_email', referenceNumber: 'ref' } } });
    expect(await runToEnd(ctx, 'mysql-ci')).toMatchObject({ status: 'succeeded', newRows: 2, sent: 2, duplicateKeys: 0 });
    const twins = ctx.fake.accepted().filter((invitation) => /^mq-a1$/i.test(invitation.body.referenceNumber));
    expect(Object.fromEntries(twins.map((invitation) => [invitation.body.referenceNumber, invitation.body.consumerName]))).toEqual({ 'MQ-A1': 'Upper', 'mq-a1': 'Lower' });
    expect(await runToEnd(ctx, 'mysql-ci')).toMatchObject({ status: 'succeeded', newRows: 0, sent: 0 });
  });

  it('a query reaching for files or locks fails the run at once as misconfigured, quoting no row value', async () => {
    await createMySqlOrders(shop, 'secret_orders', [{ ...segmentRow('MX', 1), customer_name: 'Secretname Buyer' }]);
    const attempts = {
      'mysql-outfile': `select * from secret_orders into outfile '/tmp/tpi-secret.txt'`,
      'mysql-load-file': `select order_id, customer_email, coalesce(load_file('/etc/passwd'), customer_name) as customer_name from secret_orders`,
      'mysql-get-lock': `select * from secret_orders where get_lock(customer_name, 0) = 1`,
    };
    for (const [id, text] of Object.entries(attempts)) {
      await saveServiceActivation(ctx, id, query(text), { destination: FAST_PACING });
      const summary = await runFailure(id, 'Secretname');
      expect(summary).toMatchObject({ status: 'failed', failureKind: 'misconfigured', sent: 0 });
      expect(summary.error).toMatch(/uses (INTO OUTFILE|LOAD_FILE|a named lock function).*which a segment may not/);
    }
    expect(acceptedReferences(ctx, 'MX')).toEqual([]);
  });

  it('a reader granted FILE after the worker started fails the next run, naming the grant and its fix', async () => {
    await createMySqlOrders(shop, 'wide_orders', rows('MW', 1, 2));
    await saveServiceActivation(ctx, 'mysql-wide', table('wide_orders', 'wide'), { destination: FAST_PACING });
    expect(await runToEnd(ctx, 'mysql-wide')).toMatchObject({ status: 'succeeded', sent: 2 });
    await shop.admin.query(`GRANT FILE ON *.* TO '${widened.user}'@'%'`);
    await insertRows(shop, 'wide_orders', rows('MW', 3, 3));
    const refused = await runToEnd(ctx, 'mysql-wide');
    expect(refused).toMatchObject({ status: 'failed', failureKind: 'misconfigured', sent: 0 });
    expect(refused.error).toMatch(/global privilege FILE/);
    expect(refused.error).toMatch(/reader-sql/);
    await shop.admin.query(`REVOKE FILE ON *.* FROM '${widened.user}'@'%'`);
    expect(await runToEnd(ctx, 'mysql-wide')).toMatchObject({ status: 'succeeded', newRows: 1, sent: 1 });
    expect(acceptedReferences(ctx, 'MW').sort()).toEqual(['MW-001', 'MW-002', 'MW-003']);
  });
});
