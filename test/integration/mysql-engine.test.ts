import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigs, prepareRow } from '../../src/domain/index.ts';
import { createMySqlSource } from '../../src/source/mysql/index.ts';
import type { SegmentSource, SourceColumn, SourceShape } from '../../src/source/types.ts';
import { collector, createShopDatabase, mariaDbVersion, type ShopDatabase } from './mysql-harness.ts';

/**
 * The MySQL engine against a real MariaDB: what each type reads as, the canonical key texts (the
 * ledger's keys, the same in every engine), rows read back by key, fingerprints, the cursor range,
 * and MySQL's own edges: BIGINT UNSIGNED past 2^53, DATETIME vs TIMESTAMP, zero dates,
 * case-insensitive collations, utf8mb4 names, TINYINT(1), empty strings and NULL.
 */

const LIMITS = { statementTimeoutMs: 10_000 };
const SCAN = { maxRows: 1_000_000 };

describe(`the MySQL engine on MariaDB ${mariaDbVersion()}`, () => {
  let shop: ShopDatabase;
  let source: SegmentSource;

  beforeAll(async () => {
    shop = await createShopDatabase('engine');
    source = createMySqlSource('shop', shop.reader.url, { variable: 'WAREHOUSE_SHOP_URL' });
  });
  afterAll(async () => {
    await source?.close();
    await shop?.close();
  });

  const table = (name: string) => ({ kind: 'table' as const, schema: shop.database, name });
  async function columnsOf(name: string): Promise<Map<string, SourceColumn>> {
    return new Map((await source.describe(table(name), LIMITS)).map((column) => [column.name, column]));
  }
  function shapeOf(name: string, columns: Map<string, SourceColumn>, key: string[], mapped: string[], cursor?: string): SourceShape {
    const pick = (column: string) => columns.get(column) as SourceColumn;
    return { source: table(name), primaryKey: key.map(pick), mappedColumns: mapped, ...(cursor ? { cursor: pick(cursor) } : {}) };
  }
  async function keysOf(shape: SourceShape, range = {}): Promise<string[]> {
    const scanned = collector();
    await source.copyKeys(shape, range, LIMITS, scanned.sink, SCAN);
    return scanned.lines();
  }

  it('describes each MySQL type by what it holds, and names it as MySQL does', async () => {
    await shop.admin.query(`CREATE TABLE types (
      id BIGINT UNSIGNED PRIMARY KEY, flag TINYINT(1), small TINYINT, qty INT, amount DECIMAL(10,2), ratio DOUBLE,
      born DATE, seen DATETIME(3), stamped TIMESTAMP(3) NULL, doc JSON, raw BLOB, note TEXT, code VARBINARY(10),
      kind ENUM('a','b'), at_time TIME, yr YEAR, uid UUID)`);
    const columns = await columnsOf('types');
    const kinds = Object.fromEntries([...columns].map(([name, column]) => [name, `${column.kind} ${column.typeName}`]));
    expect(kinds).toEqual({
      id: 'integer BIGINT UNSIGNED', flag: 'boolean TINYINT(1)', small: 'integer TINYINT', qty: 'integer INT', amount: 'decimal DECIMAL',
      ratio: 'float DOUBLE', born: 'date DATE', seen: 'timestamp DATETIME', stamped: 'timestamptz TIMESTAMP', doc: 'json JSON',
      raw: 'binary BLOB', note: 'text TEXT', code: 'binary VARBINARY', kind: 'text ENUM', at_time: 'other TIME', yr: 'integer YEAR', uid: 'uuid UUID',
    });
  });

  it('streams canonical key texts: exact BIGINT UNSIGNED, decimals with their scale, TINYINT(1) as true/false, ISO UTC times, composite JSON', async () => {
    await shop.admin.query(`CREATE TABLE keyed (
      id BIGINT UNSIGNED NOT NULL, flag TINYINT(1), amount DECIMAL(10,2), born DATE, seen DATETIME(6), stamped TIMESTAMP(6) NULL, name VARCHAR(20))`);
    // The administrator writes in another time zone: a TIMESTAMP is stored as the instant, a DATETIME as written.
    await shop.admin.query(`SET time_zone = '+05:00'`);
    await shop.admin.query(`INSERT INTO keyed VALUES
      (18446744073709551615, 1, 12.50, '2024-02-29', '2024-03-01 10:11:12.345678', '2024-03-01 15:11:12.345678', 'Zoë "Q" \\\\ tab\\there'),
      (9007199254740993, 0, -0.05, '1999-12-31', '2024-03-01 10:11:12.999999', NULL, ''),
      (9007199254740994, NULL, 0.00, NULL, NULL, NULL, NULL)`);
    await shop.admin.query(`SET time_zone = '+00:00'`);
    const columns = await columnsOf('keyed');
    const single = (column: string) => keysOf(shapeOf('keyed', columns, [column], ['name'])).then((lines) => lines.map((line) => line.split('\t')[0]).sort());
    expect(await single('id')).toEqual(['18446744073709551615', '9007199254740993', '9007199254740994']);
    expect(await single('flag')).toEqual(['\\N', 'false', 'true']);
    expect(await single('amount')).toEqual(['-0.05', '0.00', '12.50']);
    expect(await single('born')).toEqual(['1999-12-31T00:00:00.000Z', '2024-02-29T00:00:00.000Z', '\\N']);
    // Milliseconds, truncated as Postgres' to_char(…, 'MS') does.
    expect(await single('seen')).toEqual(['2024-03-01T10:11:12.345Z', '2024-03-01T10:11:12.999Z', '\\N']);
    expect(await single('stamped')).toEqual(['2024-03-01T10:11:12.345Z', '\\N', '\\N']);
    // Empty text is a key of its own; NULL is no key. COPY text escapes backslash and tab.
    expect(await single('name')).toEqual(['', 'Zoë "Q" \\\\ tab\\there', '\\N']);
    const composite = await keysOf(shapeOf('keyed', columns, ['id', 'flag', 'name'], ['name']));
    expect(composite.map((line) => line.split('\t')[0]).sort()).toEqual([
      JSON.stringify(['18446744073709551615', 'true', 'Zoë "Q" \\ tab\there']).replaceAll('\\', '\\\\'),
      JSON.stringify(['9007199254740993', 'false', '']),
      '\\N',
    ]);
  });

  it('reads zero dates without failing: a zero cursor is no cursor, a zero key keeps its digits, a zero send time is a rejected row', async () => {
    await shop.admin.query(`SET SESSION sql_mode = ''`);
    await shop.admin.query(`CREATE TABLE zeros (order_id VARCHAR(10), placed DATE, created_at DATETIME, send_at DATETIME, customer_name VARCHAR(20), customer_email VARCHAR(40))`);
    await shop.admin.query(`INSERT INTO zeros VALUES
      ('Z-1', '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', 'Zero One', 'z1@shop.example.com'),
      ('Z-2', '2024-00-10', '2024-05-01 09:00:00', '2024-05-02 09:00:00', 'Zero Two', 'z2@shop.example.com')`);
    await shop.admin.query(`SET SESSION sql_mode = DEFAULT`);
    const columns = await columnsOf('zeros');
    const lines = await keysOf(shapeOf('zeros', columns, ['order_id'], ['customer_email'], 'created_at'), { cursorSince: '2030-01-01T00:00:00.000Z' });
    // A cursor run far in the future still reads Z-1: a zero date places it nowhere in time.
    expect(lines).toEqual(['Z-1\t\\N']);
    const all = await keysOf(shapeOf('zeros', columns, ['placed'], ['customer_email'], 'created_at'));
    expect(all.sort()).toEqual(['0000-00-00T00:00:00.000Z\t\\N', '2024-00-10T00:00:00.000Z\t2024-05-01T09:00:00.000000Z']);

    const parsed = parseConfigs({ id: 'd', businessUnitId: 'b', invitationType: 'service' }, {
      id: 'zeros', destinationId: 'd', source: { warehouse: 'shop', ...table('zeros') }, primaryKey: 'order_id', schedule: { every: '1d' },
      mapping: { consumerName: 'customer_name', consumerEmail: 'customer_email', referenceNumber: 'order_id', servicePreferredSendTime: 'send_at' },
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    const { resolved } = parsed;
    const shape = shapeOf('zeros', columns, ['order_id'], ['customer_email', 'customer_name', 'order_id', 'send_at']);
    const rows = await source.readRows(shape, ['Z-1', 'Z-2'], LIMITS);
    const prepared = ['Z-1', 'Z-2'].map((key) => prepareRow(rows.get(key), resolved));
    expect(prepared[0]).toMatchObject({ status: 'rejected' });
    expect(JSON.stringify(prepared[0])).toMatch(/servicePreferredSendTime/);
    expect(prepared[1]).toMatchObject({ status: 'pending' });
  });

  it('keeps keys that a case-insensitive collation calls equal apart, each read back as its own row', async () => {
    await shop.admin.query(`CREATE TABLE ci_orders (order_id VARCHAR(20) COLLATE utf8mb4_general_ci, customer_name VARCHAR(40)) COLLATE utf8mb4_general_ci`);
    await shop.admin.query(`INSERT INTO ci_orders VALUES ('ABC', 'Upper'), ('abc', 'Lower'), ('abc ', 'Trailing space')`);
    const columns = await columnsOf('ci_orders');
    const shape = shapeOf('ci_orders', columns, ['order_id'], ['customer_name']);
    expect((await keysOf(shape)).map((line) => line.split('\t')[0]).sort()).toEqual(['ABC', 'abc', 'abc ']);
    const rows = await source.readRows(shape, ['abc'], LIMITS);
    expect([...rows.keys()]).toEqual(['abc']);
    expect(rows.get('abc')?.values).toEqual({ customer_name: 'Lower' });
    const both = await source.readRows(shape, ['ABC', 'abc ', 'ABc'], LIMITS);
    expect(Object.fromEntries([...both].map(([key, row]) => [key, row.values.customer_name]))).toEqual({ ABC: 'Upper', 'abc ': 'Trailing space' });
  });

  it('reads non-ASCII names and utf8mb4 values (emoji included), and BIGINT UNSIGNED keys past 2^53 back by key', async () => {
    // MySQL and MariaDB allow only characters of the Basic Multilingual Plane in names: emoji go in values.
    await shop.admin.query('CREATE TABLE `Bestellungen ☕` (`Schlüssel ★` BIGINT UNSIGNED PRIMARY KEY, `näme ✉` VARCHAR(40)) CHARACTER SET utf8mb4');
    await shop.admin.query("INSERT INTO `Bestellungen ☕` VALUES (9007199254740993, 'Ana 🎉'), (9007199254740992, 'Bo 🛒🔑'), (18446744073709551615, 'Max')");
    const columns = await columnsOf('Bestellungen ☕');
    const shape = shapeOf('Bestellungen ☕', columns, ['Schlüssel ★'], ['näme ✉']);
    const rows = await source.readRows(shape, ['9007199254740993', '18446744073709551615', 'not a number'], LIMITS);
    expect(Object.fromEntries([...rows].map(([key, row]) => [key, row.values['näme ✉']]))).toEqual({ '9007199254740993': 'Ana 🎉', '18446744073709551615': 'Max' });
  });

  it('reads rows by key in batches, fingerprints that follow the mapped values, and at most maxRows + 1 keys', async () => {
    await shop.admin.query(`CREATE TABLE many (order_id INT PRIMARY KEY, customer_name VARCHAR(40), note VARCHAR(10))`);
    const values = Array.from({ length: 1_200 }, (_, index) => `(${index + 1}, 'Buyer ${index + 1}', ${index % 2 === 0 ? "''" : 'NULL'})`);
    await shop.admin.query(`INSERT INTO many VALUES ${values.join(', ')}`);
    const columns = await columnsOf('many');
    const shape = shapeOf('many', columns, ['order_id'], ['customer_name', 'note']);
    const keys = Array.from({ length: 1_200 }, (_, index) => String(index + 1));
    const rows = await source.readRows(shape, keys, LIMITS);
    expect(rows.size).toBe(1_200);
    expect(rows.get('1200')?.values).toEqual({ customer_name: 'Buyer 1200', note: null });
    expect(rows.get('1')?.values).toEqual({ customer_name: 'Buyer 1', note: '' });
    // An empty string and NULL are different values.
    const [one, two] = [rows.get('1')?.fingerprint, rows.get('3')?.fingerprint];
    expect(one).toMatch(/^[0-9a-f]{32}$/);
    expect(one).not.toBe(two);
    const before = (await source.readRows(shape, ['7'], LIMITS, { fingerprintsOnly: true })).get('7');
    expect(before?.values).toEqual({});
    expect(before?.fingerprint).toBe(rows.get('7')?.fingerprint);
    await shop.admin.query(`UPDATE many SET customer_name = 'Renamed' WHERE order_id = 7`);
    const after = (await source.readRows(shape, ['7'], LIMITS, { fingerprintsOnly: true })).get('7');
    expect(after?.fingerprint).not.toBe(before?.fingerprint);

    const capped = collector();
    await source.copyKeys(shape, {}, LIMITS, capped.sink, { maxRows: 100 });
    expect(capped.lines()).toHaveLength(101);
    const fingerprints = collector();
    await source.copyFingerprints(shape, {}, LIMITS, fingerprints.sink, SCAN);
    expect(fingerprints.lines()).toHaveLength(1_200);
    expect(fingerprints.lines().find((line) => line.startsWith('7\t'))).toBe(`7\t${after?.fingerprint ?? ''}`);
  });
});
