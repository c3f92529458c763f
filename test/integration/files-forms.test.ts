import { renameSync, writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFilesSource } from '../../src/source/files/index.ts';
import type { SegmentSource, SourceColumn, SourceRef, SourceShape } from '../../src/source/types.ts';
import { collector, createBucket, ordersSelect, s3WarehouseEnv, scratchRoot, writeWithDuckDb } from './files-fixtures.ts';

/**
 * What the files engine reads: CSV as exports write it (header, detected or configured delimiter,
 * quoted newlines, a BOM, another encoding, empty files), folders of part files, globs, keys in
 * the canonical text every engine produces, rows by key as JS values, and object storage.
 */

const LIMITS = { statementTimeoutMs: 20_000 };

async function shapeOf(source: SegmentSource, ref: SourceRef, key: string[], mapped: string[], cursor?: string): Promise<SourceShape> {
  const columns = await source.describe(ref, LIMITS);
  const find = (name: string): SourceColumn => {
    const found = columns.find((column) => column.name === name);
    if (!found) throw new Error(`no column ${name} in ${columns.map((column) => column.name).join(', ')}`);
    return found;
  };
  return { source: ref, primaryKey: key.map(find), mappedColumns: mapped, ...(cursor ? { cursor: find(cursor) } : {}) };
}

async function keyLines(source: SegmentSource, shape: SourceShape, cursorSince?: string): Promise<string[]> {
  const lines = collector();
  await source.copyKeys(shape, cursorSince ? { cursorSince } : {}, LIMITS, lines.sink, { maxRows: 10_000 });
  return lines.lines();
}

describe('what the files engine reads', () => {
  const local = scratchRoot('forms');
  let source: SegmentSource;

  beforeAll(() => {
    source = createFilesSource('exports', local.url, { env: {}, variable: 'WAREHOUSE_EXPORTS_URL' });
  });
  afterAll(() => local.remove());

  it('reads CSV with a BOM, a detected delimiter, quoted newlines, and NULL keys', async () => {
    local.write('csv/semi.csv', '\ufefforder_id;customer_name;customer_email\nS-1;"Ann\nSmith";ann@shop.example.com\n;"No Key";nokey@shop.example.com\nS-2;"Bo ""B""";bo@shop.example.com\n');
    const shape = await shapeOf(source, { kind: 'files', format: 'csv', path: 'csv/semi.csv' }, ['order_id'], ['customer_email', 'customer_name']);
    expect(shape.primaryKey[0]?.name).toBe('order_id');
    expect(await keyLines(source, shape)).toEqual(['S-1\t\\N', '\\N\t\\N', 'S-2\t\\N']);
    const rows = await source.readRows(shape, ['S-1', 'S-2'], LIMITS);
    expect(rows.get('S-1')?.values).toEqual({ customer_email: 'ann@shop.example.com', customer_name: 'Ann\nSmith' });
    expect(rows.get('S-2')?.values.customer_name).toBe('Bo "B"');
  });

  it('takes the configured delimiter, quote, header and encoding', async () => {
    local.write('csv/latin.csv', Buffer.from('order_id|customer_name|customer_email\nL-1|Zoë Müller|zoe@shop.example.com\n', 'latin1'));
    local.write('csv/noheader.csv', 'H-1,Hana,hana@shop.example.com\n');
    const latin: SourceRef = { kind: 'files', format: 'csv', path: 'csv/latin.csv', csv: { delimiter: '|', encoding: 'latin-1' } };
    const latinShape = await shapeOf(source, latin, ['order_id'], ['customer_name']);
    expect((await source.readRows(latinShape, ['L-1'], LIMITS)).get('L-1')?.values.customer_name).toBe('Zoë Müller');
    // Without the encoding, the error says which option to set, and quotes nothing of the line.
    const unset = await source.describe({ kind: 'files', format: 'csv', path: 'csv/latin.csv', csv: { delimiter: '|' } }, LIMITS).then(
      () => 'ran',
      (error: unknown) => source.describeError(error, { subject: 'segment' }).message,
    );
    expect(unset).toMatch(/line 2 of a CSV file is not UTF-8: set the source's csv\.encoding/);
    expect(unset).not.toContain('Müller');
    const headerless = await source.describe({ kind: 'files', format: 'csv', path: 'csv/noheader.csv', csv: { header: false } }, LIMITS);
    expect(headerless.map((column) => column.name)).toEqual(['column0', 'column1', 'column2']);
  });

  it('an export with no rows reads as zero rows; a 0-byte part is skipped; only 0-byte files fail as transient', async () => {
    local.write('empty/header-only.csv', 'order_id,customer_name,customer_email\n');
    const shape = await shapeOf(source, { kind: 'files', format: 'csv', path: 'empty/header-only.csv' }, ['order_id'], ['customer_email']);
    expect(await keyLines(source, shape)).toEqual([]);
    local.write('parts/part-0.csv', 'order_id,customer_name,customer_email\nP-1,Pia,pia@shop.example.com\n');
    local.write('parts/part-1.csv', '');
    const parts = await shapeOf(source, { kind: 'files', format: 'csv', path: 'parts' }, ['order_id'], ['customer_email']);
    expect(await keyLines(source, parts)).toEqual(['P-1\t\\N']);
    local.write('zero/only.csv', '');
    const error = await source.describe({ kind: 'files', format: 'csv', path: 'zero/only.csv' }, LIMITS).then(
      () => undefined,
      (failure: unknown) => source.describeError(failure, { subject: 'segment' }),
    );
    expect(error).toMatchObject({ kind: 'transient' });
    expect(error?.message).toMatch(/empty \(0 bytes\)/);
  });

  it('reads every part file of an export folder, nested, without bookkeeping files; a glob reads what it matches', async () => {
    await writeWithDuckDb(ordersSelect('EX', 2), `${local.root}/export/part-00000.snappy.parquet`);
    await writeWithDuckDb(ordersSelect('EX', 2, '2026-01-01 00:00:00', 3), `${local.root}/export/dt=2026-01-02/part-00001.parquet`);
    await writeWithDuckDb(ordersSelect('HIDDEN', 1), `${local.root}/export/_delta_log/00000.checkpoint.parquet`);
    local.write('export/_SUCCESS', '');
    local.write('export/.part-00000.crc', 'x');
    const folder = await shapeOf(source, { kind: 'files', format: 'parquet', path: 'export' }, ['order_id'], ['customer_email']);
    expect((await keyLines(source, folder)).map((line) => line.split('\t')[0]).sort()).toEqual(['EX-001', 'EX-002', 'EX-003', 'EX-004']);
    const glob = await shapeOf(source, { kind: 'files', format: 'parquet', path: 'export/dt=*/*.parquet' }, ['order_id'], ['customer_email']);
    expect((await keyLines(source, glob)).map((line) => line.split('\t')[0])).toEqual(['EX-003', 'EX-004']);
    const missing = await source.describe({ kind: 'files', format: 'parquet', path: 'exprot' }, LIMITS).then(
      () => undefined,
      (failure: unknown) => source.describeError(failure, { subject: 'segment' }),
    );
    expect(missing).toMatchObject({ kind: 'permanent', problem: 'missing-source' });
    expect(await source.suggestSource?.({ kind: 'files', format: 'parquet', path: 'exprot' }, LIMITS)).toBe("did you mean 'export'?");
  });

  it('keys Parquet columns in the canonical text of every engine: bigint beyond 2^53, timestamps in UTC, dates, composite and NULL keys', async () => {
    await writeWithDuckDb(
      `SELECT * FROM (VALUES
         (9007199254740993::BIGINT, TIMESTAMP '2026-03-04 05:06:07.891234', TIMESTAMPTZ '2026-03-04 23:30:00+02', DATE '2026-03-04', 'a'::VARCHAR, 'Ann', 'ann@shop.example.com', 12.50::DECIMAL(10,2), 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'::UUID),
         (9007199254740994::BIGINT, TIMESTAMP '2026-03-05 00:00:00', NULL, DATE '2026-03-05', NULL, 'Bo', 'bo@shop.example.com', 3.00, NULL)
       ) t(big, stamp, stamptz, day, part, customer_name, customer_email, amount, id)`,
      `${local.root}/keys/keys.parquet`,
    );
    const ref: SourceRef = { kind: 'files', format: 'parquet', path: 'keys/keys.parquet' };
    const first = (lines: string[]) => lines.map((line) => line.split('\t')[0]);
    expect(first(await keyLines(source, await shapeOf(source, ref, ['big'], ['customer_email'])))).toEqual(['9007199254740993', '9007199254740994']);
    expect(await keyLines(source, await shapeOf(source, ref, ['stamp'], ['customer_email'], 'stamptz'))).toEqual([
      '2026-03-04T05:06:07.891Z\t2026-03-04T21:30:00.000000Z',
      '2026-03-05T00:00:00.000Z\t\\N',
    ]);
    expect(first(await keyLines(source, await shapeOf(source, ref, ['stamptz'], ['customer_email'])))).toEqual(['2026-03-04T21:30:00.000Z', '\\N']);
    expect(first(await keyLines(source, await shapeOf(source, ref, ['day'], ['customer_email'], 'day')))).toEqual(['2026-03-04T00:00:00.000Z', '2026-03-05T00:00:00.000Z']);
    expect(first(await keyLines(source, await shapeOf(source, ref, ['big', 'part'], ['customer_email'])))).toEqual(['["9007199254740993","a"]', '\\N']);
    expect(first(await keyLines(source, await shapeOf(source, ref, ['amount', 'id'], ['customer_email'])))).toEqual(['["12.50","a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"]', '\\N']);
    // The cursor range: rows at or after it, and rows without a cursor value.
    const ranged = await shapeOf(source, ref, ['big'], ['customer_email'], 'stamptz');
    expect(first(await keyLines(source, ranged, '2026-03-05T00:00:00.000Z'))).toEqual(['9007199254740994']);
    const rows = await source.readRows(await shapeOf(source, ref, ['big'], ['customer_name', 'stamp', 'amount', 'big']), ['9007199254740993'], LIMITS);
    const values = rows.get('9007199254740993')?.values;
    expect(values?.customer_name).toBe('Ann');
    expect(values?.big).toBe(9007199254740993n);
    expect(values?.stamp).toEqual(new Date('2026-03-04T05:06:07.891Z'));
    expect(values?.amount).toBe(12.5);
  });

  it('keys CSV cells by their canonical text whatever type their column is detected as', async () => {
    local.write('csv/typed.csv', 'order_id,placed,customer_email\n9007199254740993,2026-03-04 05:06:07,a@shop.example.com\n0042,2026-03-05,b@shop.example.com\n');
    local.write('csv/texty.csv', 'order_id,placed,customer_email\n9007199254740993,2026-03-04 05:06:07,a@shop.example.com\n0042,2026-03-05,b@shop.example.com\nA-1,not a date,c@shop.example.com\n');
    const typed = await keyLines(source, await shapeOf(source, { kind: 'files', format: 'csv', path: 'csv/typed.csv' }, ['order_id', 'placed'], ['customer_email']));
    const texty = await keyLines(source, await shapeOf(source, { kind: 'files', format: 'csv', path: 'csv/texty.csv' }, ['order_id', 'placed'], ['customer_email']));
    expect(typed).toEqual(['["9007199254740993","2026-03-04T05:06:07.000Z"]\t\\N', '["0042","2026-03-05T00:00:00.000Z"]\t\\N']);
    expect(texty.slice(0, 2)).toEqual(typed);
    expect(texty[2]).toBe('["A-1","not a date"]\t\\N');
    // Order numbers with and without leading zeros are different orders, whatever type the column reads as.
    local.write('csv/zeros.csv', 'order_id,customer_email\n0042,a@shop.example.com\n42,b@shop.example.com\n042,c@shop.example.com\n0,d@shop.example.com\n');
    const zeros = await keyLines(source, await shapeOf(source, { kind: 'files', format: 'csv', path: 'csv/zeros.csv' }, ['order_id'], ['customer_email']));
    expect(zeros.map((line) => line.split('\t')[0])).toEqual(['0042', '42', '042', '0']);
  });

  it('a file rewritten while it is read: the read fails as transient, or reads one version', async () => {
    const rows = Array.from({ length: 60_000 }, (_, index) => `R-${index},Buyer ${index},b${index}@shop.example.com`).join('\n');
    const path = local.write('moving/orders.csv', `order_id,customer_name,customer_email\n${rows}\n`);
    const shape = await shapeOf(source, { kind: 'files', format: 'csv', path: 'moving/orders.csv' }, ['order_id'], ['customer_email']);
    let received = 0;
    let rewritten = false;
    const slow = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        received += chunk.length;
        if (!rewritten && received > 10_000) {
          rewritten = true;
          // Rewritten in place, as a careless export does, then replaced by a rename.
          writeFileSync(path, 'order_id,customer_name,customer_email\nNEW-1,New,new@shop.example.com\n');
          writeFileSync(`${path}.tmp`, 'order_id,customer_name,customer_email\nNEW-2,New,new2@shop.example.com\n');
          renameSync(`${path}.tmp`, path);
        }
        setTimeout(callback, 1);
      },
    });
    const outcome = await source.copyKeys(shape, {}, LIMITS, slow, { maxRows: 100_000 }).then(
      () => 'read',
      (error: unknown) => source.describeError(error, { subject: 'segment' }),
    );
    console.log(`rewritten during the read: ${typeof outcome === 'string' ? outcome : `${outcome.kind}: ${outcome.message}`}`);
    expect(rewritten).toBe(true);
    expect(outcome).toMatchObject({ kind: 'transient' });
  });

  it('reads a Parquet export and a query over it in S3-compatible object storage', async () => {
    await createBucket('tpi-forms');
    await writeWithDuckDb(ordersSelect('S3', 3), 's3://tpi-forms/warehouse/orders/part-0.parquet');
    await writeWithDuckDb(ordersSelect('S3', 2, '2026-01-01 00:00:00', 4), 's3://tpi-forms/warehouse/orders/part-1.parquet');
    const env = s3WarehouseEnv('lake', 'tpi-forms', 'warehouse');
    const lake = createFilesSource('lake', env.WAREHOUSE_LAKE_URL ?? '', { env, variable: 'WAREHOUSE_LAKE_URL' });
    const folder = await shapeOf(lake, { kind: 'files', format: 'parquet', path: 'orders' }, ['order_id'], ['customer_email'], 'created_at');
    expect((await keyLines(lake, folder)).map((line) => line.split('\t')[0])).toEqual(['S3-001', 'S3-002', 'S3-003', 'S3-004', 'S3-005']);
    const query = await shapeOf(lake, { kind: 'query', sql: `select * from read_parquet('orders/*.parquet') where order_id > 'S3-003'` }, ['order_id'], ['customer_email']);
    expect((await keyLines(lake, query)).map((line) => line.split('\t')[0])).toEqual(['S3-004', 'S3-005']);
    expect((await lake.readRows(folder, ['S3-002'], LIMITS)).get('S3-002')?.values.customer_email).toBe('s3.2@shop.example.com');
  });
});
