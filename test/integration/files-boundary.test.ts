import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SourceError } from '../../src/source/errors.ts';
import { createFilesSource } from '../../src/source/files/index.ts';
import type { SegmentSource, SourceShape } from '../../src/source/types.ts';
import { collector, createBucket, ordersSelect, s3WarehouseEnv, scratchRoot, writeWithDuckDb } from './files-fixtures.ts';

/**
 * The files engine's boundary as DuckDB enforces it: whatever a segment's query says, it reads
 * only files under its warehouse's root, writes nothing, attaches nothing, loads no extension,
 * reads no environment, and stops at its statement timeout; no message quotes a row's value.
 */

const LIMITS = { statementTimeoutMs: 10_000 };
const KEY = [{ name: 'order_id', kind: 'text' as const, typeName: 'VARCHAR', native: 'VARCHAR' }];

function shapeOf(sql: string): SourceShape {
  return { source: { kind: 'query', sql }, primaryKey: KEY, mappedColumns: ['customer_email', 'customer_name', 'order_id'] };
}

/** What each read of a query does: its error's message and kind, or 'ran'. */
async function outcomes(source: SegmentSource, sql: string): Promise<string[]> {
  const shape = shapeOf(sql);
  const attempts: (() => Promise<unknown>)[] = [
    () => source.describe(shape.source, LIMITS),
    () => source.copyKeys(shape, {}, LIMITS, collector().sink, { maxRows: 100 }),
    () => source.readRows(shape, ['OB-001'], LIMITS),
  ];
  const results: string[] = [];
  for (const attempt of attempts) {
    results.push(
      await attempt().then(
        () => 'ran',
        (error: unknown) => {
          const described = source.describeError(error, { subject: 'segment', configText: `"order_id"\n${sql}` });
          return `${described.kind}: ${described.message}`;
        },
      ),
    );
  }
  return results;
}

describe('the files engine boundary', () => {
  const local = scratchRoot('boundary');
  const outside = scratchRoot('outside');
  let source: SegmentSource;

  beforeAll(async () => {
    await writeWithDuckDb(ordersSelect('OB', 3), `${local.root}/exports/orders.parquet`);
    outside.write('secret.csv', 'order_id,customer_name,customer_email\nX-1,Outside Secretname,outside@shop.example.com\n');
    source = createFilesSource('exports', local.url, { env: {}, variable: 'WAREHOUSE_EXPORTS_URL' });
  });
  afterAll(() => {
    local.remove();
    outside.remove();
  });

  it('reads a query over files under the root, with paths relative to it', async () => {
    const lines = collector();
    await source.copyKeys(shapeOf(`select * from read_parquet('exports/*.parquet')`), {}, LIMITS, lines.sink, { maxRows: 100 });
    expect(lines.lines().map((line) => line.split('\t')[0])).toEqual(['OB-001', 'OB-002', 'OB-003']);
  });

  it('refuses, at describe, scan and claim, every query that reaches outside the root or beyond reading', async () => {
    const attempts: Record<string, string> = {
      'an absolute path outside': `select * from read_csv('${outside.root}/secret.csv')`,
      'a relative path that climbs out': `select * from read_csv('../${outside.root.split('/').pop() ?? ''}/secret.csv')`,
      'the worker environment': `select content as order_id, '' as customer_name, '' as customer_email from read_text('/proc/self/environ')`,
      'server files': `select * from read_csv('/etc/passwd', delim = ':')`,
      'getenv': `select getenv('DATABASE_URL') as order_id, '' as customer_name, '' as customer_email`,
      'a hidden COPY': `select * from read_parquet('exports/*.parquet')) as src; copy (select 1) to '${local.root}/written.csv'; select * from (select 1 as x`,
      'COPY as the query': `copy (select 1) to '${local.root}/written.csv'`,
      'ATTACH': `select * from read_parquet('exports/*.parquet')) as src; attach '${local.root}/attached.db'; select * from (select 1 as x`,
      'INSTALL': `select 1 as x) as src; install httpfs; select * from (select 1 as x`,
      'LOAD': `select 1 as x) as src; load httpfs; select * from (select 1 as x`,
      'SET': `select 1 as x) as src; set enable_external_access = true; select * from (select 1 as x`,
      'a nested query()': `select * from query('copy (select 1) to ''${local.root}/written.csv''')`,
    };
    for (const [what, sql] of Object.entries(attempts)) {
      const results = await outcomes(source, sql);
      console.log(`${what}: ${results[0]}`);
      for (const result of results) {
        expect(result, what).toMatch(/^permanent: segment: /);
        expect(result, what).not.toMatch(/Secretname|outside@shop|DATABASE_URL=|root:x:/);
      }
    }
    // Nothing was written or attached under the root.
    expect(readdirSync(local.root).sort()).toEqual(['exports']);
    expect(existsSync(`${local.root}/written.csv`)).toBe(false);
  });

  it('interrupts a query at its statement timeout, and says which option to raise', async () => {
    const started = Date.now();
    const slow = shapeOf(`select CAST(i AS VARCHAR) as order_id, '' as customer_name, '' as customer_email from range(10000000000) t(i) where hash(i) = 0`);
    const error = await source.copyKeys(slow, {}, { statementTimeoutMs: 1_000 }, collector().sink, { maxRows: 10 }).then(
      () => undefined,
      (failure: unknown) => failure,
    );
    const elapsed = Date.now() - started;
    const described = source.describeError(error, { subject: 'segment', statementTimeout: '1s' });
    console.log(`slow query: ${elapsed} ms: ${described.message}`);
    expect(described).toBeInstanceOf(SourceError);
    expect(described.kind).toBe('permanent');
    expect(described.message).toMatch(/statement timeout of 1s/);
    expect(elapsed).toBeLessThan(5_000);
  });

  it('never quotes a value: a cast failing on a row, a CSV line that does not parse', async () => {
    local.write('bad/values.csv', 'order_id,customer_name,customer_email\nV-1,Valerie Secretname,valerie.secret@shop.example.com\n');
    local.write('bad/broken.csv', 'order_id,customer_name,customer_email\nB-1,"Broken Secretname,broken.secret@shop.example.com\nB-2,x\n');
    const queries = [
      `select order_id, customer_name, CAST(customer_email AS INTEGER) as customer_email from read_csv('bad/values.csv')`,
      `select order_id, customer_name, customer_email from read_csv('bad/values.csv') where CAST(customer_name AS DATE) is not null`,
      `select * from read_csv('bad/broken.csv', strict_mode = true, delim = ',', quote = '"')`,
    ];
    for (const sql of queries) {
      const results = await outcomes(source, sql);
      console.log(`bad value: ${results.join(' | ')}`);
      for (const result of results) expect(result).not.toMatch(/Secretname|secret@shop|Valerie|Broken/);
      expect(results.some((result) => result.startsWith('permanent'))).toBe(true);
    }
  });

  it('a root that holds system folders or the product itself is refused before any read', async () => {
    const wide = createFilesSource('wide', 'file:///', { env: {}, variable: 'WAREHOUSE_WIDE_URL' });
    const report = await wide.checkAccess();
    expect(report.problems.join(' ')).toMatch(/system folders/);
    const error = await wide.describe({ kind: 'query', sql: `select * from read_csv('/etc/passwd')` }, LIMITS).then(
      () => undefined,
      (failure: unknown) => wide.describeError(failure, { subject: 'segment' }),
    );
    expect(error?.message).toMatch(/system folders/);
    const missing = createFilesSource('gone', `${local.url}/not-there`, { env: {}, variable: 'WAREHOUSE_GONE_URL' });
    await expect(missing.checkAccess()).rejects.toThrow(/WAREHOUSE_GONE_URL/);
  });

  it('a symbolic link under the root that leads outside it, or a root that is a link to /, is refused before any read', async () => {
    const linked = scratchRoot('links');
    try {
      await writeWithDuckDb(ordersSelect('OL', 2), `${linked.root}/exports/orders.parquet`);
      const source = createFilesSource('links', linked.url, { env: {}, variable: 'WAREHOUSE_LINKS_URL' });
      const read = (files: SegmentSource, sql: string) =>
        files.describe({ kind: 'query', sql }, LIMITS).then(
          () => 'ran',
          (failure: unknown) => files.describeError(failure, { subject: 'segment' }).message,
        );
      expect(await read(source, `select * from read_parquet('exports/orders.parquet')`)).toBe('ran');
      // A link that stays inside the root is an ordinary file.
      symlinkSync(`${linked.root}/exports/orders.parquet`, `${linked.root}/exports/latest.parquet`);
      expect(await read(source, `select * from read_parquet('exports/latest.parquet')`)).toBe('ran');
      mkdirSync(`${linked.root}/deep/er`, { recursive: true });
      symlinkSync(`${outside.root}/secret.csv`, `${linked.root}/deep/er/people.csv`);
      const refused = await read(source, `select * from read_csv('exports/../deep/er/people.csv')`);
      expect(refused).toMatch(/symbolic links that lead outside it \(deep\/er\/people\.csv\)/);
      expect(refused).not.toContain('Secretname');
      // Even a query that does not name the link: the root as a whole reaches outside.
      expect(await read(source, `select * from read_parquet('exports/orders.parquet')`)).toMatch(/symbolic links/);
      rmSync(`${linked.root}/deep`, { recursive: true });
      symlinkSync('/', `${linked.root}/everything`);
      const wide = createFilesSource('wide', `${linked.url}/everything`, { env: {}, variable: 'WAREHOUSE_WIDE_URL' });
      expect(await read(wide, `select * from read_csv('etc/passwd')`)).toMatch(/holds system folders .* is a link to \//);
    } finally {
      linked.remove();
    }
  });

  it('in object storage, reads only under the prefix: another prefix or bucket is refused, credentials never shown', async () => {
    await createBucket('tpi-boundary');
    await createBucket('tpi-elsewhere');
    await writeWithDuckDb(ordersSelect('OS', 2), 's3://tpi-boundary/shop/export/part-0.parquet');
    await writeWithDuckDb(ordersSelect('XS', 2), 's3://tpi-boundary/other/part-0.parquet');
    await writeWithDuckDb(ordersSelect('XB', 2), 's3://tpi-elsewhere/shop/part-0.parquet');
    const env = s3WarehouseEnv('lake', 'tpi-boundary', 'shop');
    const lake = createFilesSource('lake', env.WAREHOUSE_LAKE_URL ?? '', { env, variable: 'WAREHOUSE_LAKE_URL' });
    const lines = collector();
    await lake.copyKeys({ ...shapeOf(''), source: { kind: 'files', format: 'parquet', path: 'export' } }, {}, LIMITS, lines.sink, { maxRows: 100 });
    expect(lines.lines().map((line) => line.split('\t')[0])).toEqual(['OS-001', 'OS-002']);
    for (const sql of [
      `select * from read_parquet('s3://tpi-boundary/other/*.parquet')`,
      `select * from read_parquet('s3://tpi-elsewhere/shop/*.parquet')`,
      `select * from read_parquet('../other/*.parquet')`,
      `select * from read_csv('${local.root}/exports/orders.parquet')`,
    ]) {
      const results = await outcomes(lake, sql);
      console.log(`s3 outside: ${results[0]}`);
      for (const result of results) {
        expect(result).toMatch(/^permanent: /);
        expect(result).not.toContain('tpi-test-secret');
      }
    }
    const setup = lake.setupSql({ sources: [] });
    expect(setup).toContain('s3:GetObject');
    expect(setup).not.toContain('tpi-test-secret');
  });
});
