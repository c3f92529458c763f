import { rmSync } from 'node:fs';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST_PACING, acceptedReferences, createTestContext, historyText, ledgerByKey, orderActivation, runCli, runToEnd, saveServiceActivation, serviceDestination, type TestContext } from './harness.ts';
import { workerEnvFor } from './processes.ts';
import { createBucket, ordersSelect, s3WarehouseEnv, scratchRoot, writeWithDuckDb } from './files-fixtures.ts';

/**
 * Activations over a files warehouse, end to end: the worker reads the exports of a local folder
 * (`exports`) and of an S3-compatible bucket (`lake`) through the files engine, and every delivery
 * guarantee holds as it does for Postgres: each row invited exactly once, rows of a new part file
 * sent on the next run, late rows found by the periodic full scan, rejected rows reconsidered once
 * fixed, NULL, duplicate and over-long keys counted, a query that reaches outside the root failing
 * the run at once.
 */

const CSV_HEADER = 'order_id,customer_name,customer_email,created_at\n';

function csvRow(prefix: string, index: number, createdAt: string, email = `${prefix.toLowerCase()}.${index}@shop.example.com`): string {
  return `${prefix}-${String(index).padStart(3, '0')},Buyer ${prefix} ${index},${email},${createdAt}\n`;
}

describe('activations over files', () => {
  const local = scratchRoot('runs');
  let ctx: TestContext;

  beforeAll(async () => {
    await createBucket('tpi-runs');
    ctx = await createTestContext('files-runs', { rateLimit: null }, { warehouseEnv: { WAREHOUSE_EXPORTS_URL: local.url, ...s3WarehouseEnv('lake', 'tpi-runs', 'exports') } });
    await ctx.startWorker({ claimBatchSize: 5 });
  });
  afterAll(async () => {
    await ctx.close();
    local.remove();
  });

  const files = (path: string, format: 'csv' | 'parquet' = 'csv', warehouse = 'exports') => ({ kind: 'files', warehouse, format, path });

  it('sends each row of a CSV export once; a new part file is sent on the next run, and nothing else', async () => {
    local.write('orders/part-0.csv', CSV_HEADER + [1, 2, 3].map((n) => csvRow('FO', n, '2026-01-01 10:00:00')).join(''));
    await saveServiceActivation(ctx, 'files-once', files('orders'), { destination: FAST_PACING });
    expect(await runToEnd(ctx, 'files-once')).toMatchObject({ status: 'succeeded', sourceRows: 3, newRows: 3, sent: 3 });
    expect(await runToEnd(ctx, 'files-once')).toMatchObject({ status: 'succeeded', sourceRows: 3, newRows: 0, sent: 0, skippedAlreadySent: 3 });
    local.write('orders/part-1.csv', CSV_HEADER + [4, 5].map((n) => csvRow('FO', n, '2026-01-02 10:00:00')).join(''));
    expect(await runToEnd(ctx, 'files-once')).toMatchObject({ status: 'succeeded', sourceRows: 5, newRows: 2, sent: 2 });
    expect(await runToEnd(ctx, 'files-once')).toMatchObject({ status: 'succeeded', newRows: 0, sent: 0 });
    expect(acceptedReferences(ctx, 'FO').sort()).toEqual(['FO-001', 'FO-002', 'FO-003', 'FO-004', 'FO-005']);
  });

  it('finds a row later than the look-back on the next full scan (cursor.fullScanEvery)', async () => {
    await writeWithDuckDb(ordersSelect('FL', 2, '2026-02-01 00:00:00'), `${local.root}/late/part-0.parquet`);
    await saveServiceActivation(ctx, 'files-late', files('late', 'parquet'), {
      destination: FAST_PACING,
      activation: { cursor: { column: 'created_at', lookback: '1m', fullScanEvery: '1h' } },
    });
    expect(await runToEnd(ctx, 'files-late')).toMatchObject({ status: 'succeeded', fullScan: true, sent: 2 });
    // A part file whose row lies a month behind the watermark, far beyond the look-back.
    await writeWithDuckDb(ordersSelect('FL', 1, '2026-01-01 00:00:00', 3), `${local.root}/late/part-1.parquet`);
    expect(await runToEnd(ctx, 'files-late')).toMatchObject({ status: 'succeeded', fullScan: false, newRows: 0, sent: 0 });
    await sql`update app.activations set last_full_scan_at = now() - interval '2 hours' where id = 'files-late'`.execute(ctx.db);
    expect(await runToEnd(ctx, 'files-late')).toMatchObject({ status: 'succeeded', fullScan: true, sourceRows: 3, newRows: 1, sent: 1 });
    expect(acceptedReferences(ctx, 'FL').sort()).toEqual(['FL-001', 'FL-002', 'FL-003']);
  });

  it('reconsiders a rejected row once its data is fixed in the file, and never sends a sent row again', async () => {
    const write = (email: string, name = 'Buyer FR 1') =>
      local.write('rejected/orders.csv', CSV_HEADER + csvRow('FR', 1, '2026-01-01 10:00:00').replace('Buyer FR 1', name) + csvRow('FR', 2, '2026-01-01 10:00:00', email));
    write('fr.two@@shop.example.com');
    await saveServiceActivation(ctx, 'files-rejected', files('rejected/orders.csv'), { destination: FAST_PACING });
    expect(await runToEnd(ctx, 'files-rejected')).toMatchObject({ status: 'succeeded', newRows: 2, sent: 1, rejected: 1 });
    expect(await runToEnd(ctx, 'files-rejected')).toMatchObject({ status: 'succeeded', newRows: 0, sent: 0, rejected: 0 });
    write('fr.two@shop.example.com', 'Renamed Buyer');
    expect(await runToEnd(ctx, 'files-rejected')).toMatchObject({ status: 'succeeded', newRows: 1, sent: 1 });
    expect(acceptedReferences(ctx, 'FR').sort()).toEqual(['FR-001', 'FR-002']);
    expect(ctx.fake.accepted().find((invitation) => invitation.body.referenceNumber === 'FR-001')?.body.consumerName).toBe('Buyer FR 1');
  });

  it('counts NULL, duplicate and over-long keys, and sends every other row once', async () => {
    local.write(
      'keys/orders.csv',
      CSV_HEADER +
        [1, 2, 3].map((n) => csvRow('FK', n, '2026-01-01 10:00:00')).join('') +
        csvRow('FK', 2, '2026-01-01 11:00:00') +
        ',No Key,nokey@shop.example.com,2026-01-01 10:00:00\n' +
        `FK-${'x'.repeat(3_000)},Long Key,long@shop.example.com,2026-01-01 10:00:00\n`,
    );
    await saveServiceActivation(ctx, 'files-keys', files('keys/orders.csv'), { destination: FAST_PACING });
    const first = await runToEnd(ctx, 'files-keys');
    console.log(`keys: ${first.status}, warnings: ${first.warnings.join(' | ')}`);
    expect(first).toMatchObject({ status: 'succeeded', sourceRows: 6, newRows: 3, sent: 3, duplicateKeys: 1, nullKeys: 1, oversizedKeys: 1 });
    expect(first.warnings.join(' ')).toMatch(/longer than 2048 bytes/);
    expect(await runToEnd(ctx, 'files-keys')).toMatchObject({ status: 'succeeded', newRows: 0, sent: 0, duplicateKeys: 1, nullKeys: 1, oversizedKeys: 1 });
    expect(acceptedReferences(ctx, 'FK').sort()).toEqual(['FK-001', 'FK-002', 'FK-003']);
  });

  it('sends a Parquet export in object storage exactly once, and its next part file on the next run', async () => {
    await writeWithDuckDb(ordersSelect('FS', 3), 's3://tpi-runs/exports/daily/part-0.parquet');
    await saveServiceActivation(ctx, 'files-s3', files('daily', 'parquet', 'lake'), { destination: FAST_PACING });
    expect(await runToEnd(ctx, 'files-s3')).toMatchObject({ status: 'succeeded', newRows: 3, sent: 3 });
    expect(await runToEnd(ctx, 'files-s3')).toMatchObject({ status: 'succeeded', newRows: 0, sent: 0 });
    await writeWithDuckDb(ordersSelect('FS', 2, '2026-01-01 00:00:00', 4), 's3://tpi-runs/exports/daily/part-1.parquet');
    await saveServiceActivation(ctx, 'files-s3-query', { kind: 'query', warehouse: 'lake', sql: `select * from read_parquet('daily/*.parquet') where order_id >= 'FS-004'` }, { destination: FAST_PACING });
    expect(await runToEnd(ctx, 'files-s3')).toMatchObject({ status: 'succeeded', sourceRows: 5, newRows: 2, sent: 2 });
    expect(await runToEnd(ctx, 'files-s3-query')).toMatchObject({ status: 'succeeded', sourceRows: 2, newRows: 2, sent: 2 });
    expect(acceptedReferences(ctx, 'FS')).toHaveLength(7);
    expect(new Set(acceptedReferences(ctx, 'FS')).size).toBe(5);
  });

  it('a query that reaches outside the root fails the run at once, quoting nothing it read', async () => {
    const outside = scratchRoot('runs-outside');
    try {
      outside.write('people.csv', 'order_id,customer_name,customer_email\nX-1,Outside Secretname,outside@shop.example.com\n');
      await saveServiceActivation(ctx, 'files-outside', { kind: 'query', warehouse: 'exports', sql: `select * from read_csv('${outside.root}/people.csv')` }, { destination: FAST_PACING });
      const started = Date.now();
      const summary = await runToEnd(ctx, 'files-outside');
      console.log(`outside the root: ${summary.status}/${summary.failureKind} in ${Date.now() - started} ms: ${summary.error}`);
      expect(summary).toMatchObject({ status: 'failed', failureKind: 'misconfigured', sent: 0 });
      expect(summary.error).toMatch(/file system operations are disabled|outside the warehouse's root/);
      const { workflow_id: workflowId } = await ctx.db.selectFrom('app.runs').select('workflow_id').where('id', '=', summary.runId).executeTakeFirstOrThrow();
      expect(historyText(await ctx.temporal.workflow.getHandle(workflowId).fetchHistory())).not.toContain('Secretname');
    } finally {
      outside.remove();
    }
    // The activation that reads a folder whose files were all removed fails saying so, and sends nothing.
    rmSync(`${local.root}/orders`, { recursive: true, force: true });
    const gone = await runToEnd(ctx, 'files-once');
    expect(gone).toMatchObject({ status: 'failed', failureKind: 'misconfigured', sent: 0 });
    expect(gone.error).toMatch(/no \.csv file at or under 'orders'/);
    expect((await ledgerByKey(ctx, 'files-once')).size).toBe(5);
  });

  it('reader-sql for activations over files prints the folder setup of their warehouse, and no database role they do not need', async () => {
    local.write('grants/part-0.csv', CSV_HEADER + csvRow('FG', 1, '2026-01-01 10:00:00'));
    const activation = { ...orderActivation('files-grants', 'grants-dest', files('grants')), mapping: { consumerEmail: 'customer_email', consumerName: 'customer_name', referenceNumber: 'order_id' } };
    const file = local.write('config/reader-sql.json', JSON.stringify({ destinations: [serviceDestination('grants-dest')], activations: [activation] }));
    const printed = await runCli(['reader-sql', file], workerEnvFor(ctx, { WAREHOUSE_EXPORTS_URL: local.url }));
    expect(printed.code, printed.stdout + printed.stderr).toBe(0);
    expect(printed.stdout).toMatch(/^-- warehouse 'exports' \(files\), read by files-grants:/);
    expect(printed.stdout).toContain(`WAREHOUSE_EXPORTS_URL=${local.url}`);
    expect(printed.stdout).toContain(':ro');
    expect(printed.stdout).not.toContain('CREATE ROLE');
  });
});
