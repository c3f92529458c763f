import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/dev/free-port.ts';
import { MySqlSource, type MySqlReadTimeout } from '../../src/source/mysql/index.ts';
import type { SourceShape } from '../../src/source/types.ts';
import { collector, createMySqlOrders, createShopDatabase, mariaDbVersion, type ShopDatabase } from './mysql-harness.ts';
import { segmentRow } from './harness.ts';

/**
 * The segment boundary of a MySQL warehouse as the server enforces it: one statement per query
 * (the connection never allows more), a READ ONLY transaction rolled back, settings pinned
 * whatever `init_connect` does, a statement timeout, a fresh session per read, and a client-side
 * deadline for a server that goes silent; and the engine's own refusal of files and named locks,
 * with the server's containment of them shown past it.
 */

const LIMITS = { statementTimeoutMs: 10_000 };

describe(`the segment boundary on MariaDB ${mariaDbVersion()}`, () => {
  let shop: ShopDatabase;
  let source: MySqlSource;

  beforeAll(async () => {
    shop = await createShopDatabase('boundary');
    await createMySqlOrders(shop, 'orders', Array.from({ length: 4 }, (_, index) => segmentRow('MB', index + 1)));
    source = new MySqlSource('shop', shop.reader.url, 'WAREHOUSE_SHOP_URL');
  });
  afterAll(async () => {
    await shop?.close();
  });

  const query = (sql: string): SourceShape => ({
    source: { kind: 'query', sql },
    primaryKey: [{ name: 'order_id', kind: 'text', typeName: 'VARCHAR', native: 253 }],
    mappedColumns: ['customer_email', 'customer_name', 'order_id'],
  });
  const outcome = (work: Promise<unknown>) => work.then(() => 'ran', (error: unknown) => String((error as { errno?: number }).errno ?? (error as Error).name));
  const keysOf = async (sql: string, limits = LIMITS) => {
    const scanned = collector();
    await source.copyKeys(query(sql), {}, limits, scanned.sink, { maxRows: 1_000 });
    return scanned.lines();
  };

  it('statements hidden in a segment run nowhere: the server refuses a second statement at describe, scan and read', async () => {
    const tables = async () => ((await shop.admin.query(`SHOW TABLES`))[0] as unknown[]).length;
    const before = await tables();
    const hidden = [
      `select order_id from orders) as src; drop table orders; select * from (select 1 as order_id`,
      `select order_id from orders #\n) as src; create table stolen (x int); select * from (select 1 as order_id`,
      `select 'it\\'s' as order_id) as src; drop table orders; select * from (select 1 as order_id`,
      `select order_id from orders /*! ) as src; drop table orders; select * from (select 1 as order_id */`,
    ];
    const outcomes: string[] = [];
    for (const sql of hidden) {
      const shape = query(sql);
      outcomes.push(await outcome(source.describe(shape.source, LIMITS)));
      outcomes.push(await outcome(source.copyKeys(shape, {}, LIMITS, collector().sink, { maxRows: 10 })));
      outcomes.push(await outcome(source.readRows(shape, ['MB-001'], LIMITS)));
    }
    expect(outcomes).toEqual(Array.from({ length: hidden.length * 3 }, () => '1064'));
    // A carriage return does not end a `--` comment in MySQL or MariaDB (only a line feed does):
    // what follows it is a comment to the server too, and the one statement before it is all that runs.
    const carriage = query(`select order_id from orders -- a note\r) as src; drop table orders; select * from (select 1 as order_id`);
    expect((await source.describe(carriage.source, LIMITS)).map((column) => column.name)).toEqual(['order_id']);
    const scanned = collector();
    await source.copyKeys(carriage, {}, LIMITS, scanned.sink, { maxRows: 10 });
    expect(scanned.lines().sort()).toEqual(['MB-001\t\\N', 'MB-002\t\\N', 'MB-003\t\\N', 'MB-004\t\\N']);
    expect(await tables()).toBe(before);
    // A trailing `;` and comment are the statement's own end, and are accepted.
    expect(await keysOf(`select order_id from orders where order_id = 'MB-001';  # the first one\n`)).toEqual(['MB-001\t\\N']);
  });

  // What the server answers when the text reaches it, past the product's own refusal: a guarded
  // read of the query in the parentheses the engine puts it in.
  const serverRead = (sql: string, limits = LIMITS) =>
    source.warehouse.read(limits, async (session) => (await session.queryArrays(`SELECT * FROM (\n${sql}\n) AS \`src\``)).rows.map((row) => String(row[0])));

  it('INTO OUTFILE, LOAD_FILE and GET_LOCK are refused before they reach the server, and the server contains them anyway', async () => {
    const refused = [
      `select order_id from orders into outfile '/tmp/tpi-outfile.txt'`,
      `select order_id, load_file('/etc/passwd') as customer_name from orders`,
      `select order_id from orders where /*! load_file */ ('/etc/passwd') is null`,
      `select cast(get_lock('tpi_held', 0) as char) as order_id`,
      `select order_id from orders where release_lock ('x') is null`,
    ];
    for (const sql of refused) {
      const shape = query(sql);
      expect(await outcome(source.describe(shape.source, LIMITS))).toBe('MySqlQueryRefused');
      expect(await outcome(source.copyKeys(shape, {}, LIMITS, collector().sink, { maxRows: 10 }))).toBe('MySqlQueryRefused');
      expect(await outcome(source.readRows(shape, ['MB-001'], LIMITS))).toBe('MySqlQueryRefused');
      expect(source.checkQuery(sql)).toMatch(/^uses .+, which a segment may not$/);
    }
    // Names in strings, quoted identifiers and comments are only text.
    expect(source.checkQuery(`select order_id, 'load_file(' as \`get_lock(\` from orders -- into outfile`)).toBeUndefined();
    // The server's own answers: INTO OUTFILE cannot stand in a derived table, and a reader without
    // FILE (the access check refuses one with it) reads NULL.
    expect(await outcome(serverRead(`select order_id from orders into outfile '/tmp/tpi-outfile.txt'`))).toBe('1064');
    expect(await serverRead(`select coalesce(load_file('/etc/passwd'), 'nothing') as order_id`)).toEqual(['nothing']);
  });

  it('SLEEP past the statement timeout is ended by the server, with a reason naming max_statement_time', async () => {
    const slept = await source.copyKeys(query(`select order_id from orders where sleep(5) = 0`), {}, { statementTimeoutMs: 1_000 }, collector().sink, { maxRows: 10 }).catch((error: unknown) => error);
    expect(String((slept as { errno?: number }).errno)).toBe('1969');
    const described = source.describeError(slept, { subject: 'activation x', statementTimeout: '1s' });
    expect(described.message).toMatch(/took longer than its statement timeout of 1s \(max_statement_time on MariaDB; MySQL error 1969/);
    expect(described.kind).toBe('permanent');
  });

  it('named locks and user variables do not outlive a read: every read is a session of its own', async () => {
    expect(await serverRead(`select cast(get_lock('tpi_held', 0) as char) as order_id`)).toEqual(['1']);
    // The server ends the read's session just after the read returns: the lock is gone once it has.
    const isFree = async () => ((await shop.admin.query(`SELECT IS_FREE_LOCK('tpi_held') AS free`))[0] as { free: number }[])[0]?.free;
    await expect.poll(isFree, { timeout: 15_000, interval: 100 }).toBe(1);
    // A lock someone else holds is waited for only as long as the statement timeout.
    await shop.admin.query(`SELECT GET_LOCK('tpi_other', 0)`);
    try {
      expect(await outcome(serverRead(`select cast(get_lock('tpi_other', 30) as char) as order_id`, { statementTimeoutMs: 1_000 }))).toBe('1969');
    } finally {
      await shop.admin.query(`SELECT RELEASE_LOCK('tpi_other')`);
    }
    expect(await keysOf(`select (@tpi_leak := 'secret') as order_id`)).toEqual(['secret\t\\N']);
    expect(await keysOf(`select coalesce(@tpi_leak, 'none') as order_id`)).toEqual(['none\t\\N']);
  });

  it('pins its settings whatever init_connect sets: UTC, backslash escapes, no row limit, no ANSI quotes', async () => {
    await shop.admin.query(`CREATE TABLE pinned (order_id VARCHAR(20), stamped TIMESTAMP NULL, customer_email VARCHAR(40), customer_name VARCHAR(40))`);
    await shop.admin.query(`SET time_zone = '+00:00'`);
    await shop.admin.query(`INSERT INTO pinned VALUES ('P\\\\1', '2024-01-01 12:00:00', 'a', 'b'), ('P"2', '2024-01-01 13:00:00', 'c', 'd')`);
    const shape: SourceShape = {
      source: { kind: 'table', schema: shop.database, name: 'pinned' },
      primaryKey: [{ name: 'order_id', kind: 'text', typeName: 'VARCHAR', native: 253 }],
      mappedColumns: ['customer_email'],
      cursor: { name: 'stamped', kind: 'timestamptz', typeName: 'TIMESTAMP', native: 7 },
    };
    const read = async () => {
      const scanned = collector();
      await source.copyKeys(shape, {}, LIMITS, scanned.sink, { maxRows: 10 });
      const rows = await source.readRows(shape, ['P\\1', 'P"2'], LIMITS);
      return { keys: scanned.lines().sort(), rows: [...rows.keys()].sort() };
    };
    const expected = await read();
    expect(expected.keys).toEqual(['P"2\t2024-01-01T13:00:00.000000Z', 'P\\\\1\t2024-01-01T12:00:00.000000Z']);
    await shop.admin.query(`SET GLOBAL init_connect = "SET SESSION time_zone = '+05:00', SESSION sql_mode = 'ANSI_QUOTES,NO_BACKSLASH_ESCAPES,PAD_CHAR_TO_FULL_LENGTH', SESSION sql_select_limit = 1"`);
    try {
      expect(await read()).toEqual(expected);
    } finally {
      await shop.admin.query(`SET GLOBAL init_connect = ''`);
    }
  });

  it('a read is a READ ONLY transaction that is rolled back: a writing function fails even where its grant was not checked', async () => {
    await shop.admin.query(`CREATE TABLE audit (n INT)`);
    await shop.admin.query(`CREATE FUNCTION tpi_write() RETURNS INT MODIFIES SQL DATA SQL SECURITY DEFINER BEGIN INSERT INTO audit VALUES (1); RETURN 1; END`);
    const writer = await shop.createUser('tpi_w', ['GRANT SELECT ON ?.* TO {user}', 'GRANT EXECUTE ON FUNCTION ?.tpi_write TO {user}']);
    const refused = await new MySqlSource('shop', writer.url, 'WAREHOUSE_SHOP_URL').checkAccess();
    expect(refused.problems.join('\n')).toMatch(/may EXECUTE on FUNCTION/);
    const unchecked = new MySqlSource('shop', writer.url, 'WAREHOUSE_SHOP_URL').warehouse;
    const result = await outcome(unchecked.read(LIMITS, (session) => session.query(`SELECT tpi_write() AS n`), { checkAccess: false }));
    expect(result).toBe('1792');
    // COUNT(*) is a BIGINT, which the administrator's connection reads as text (bigNumberStrings).
    expect(((await shop.admin.query(`SELECT COUNT(*) AS n FROM audit`))[0] as { n: string }[])[0]?.n).toBe('0');
  });

  it('abandons a read when the server goes silent, at the statement timeout plus its margin', async () => {
    const target = new URL(shop.reader.url);
    const port = await freePort();
    let stalled = false;
    const sockets: Socket[] = [];
    const proxy: Server = createServer((client) => {
      const server = connect(Number(target.port), target.hostname);
      sockets.push(client, server);
      client.on('data', (chunk: Buffer) => {
        if (chunk.includes('tpi_stall')) stalled = true;
        server.write(chunk);
      });
      server.on('data', (chunk: Buffer) => (stalled ? undefined : client.write(chunk)));
      client.on('error', () => server.destroy());
      server.on('error', () => client.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(port, '127.0.0.1', resolve));
    try {
      const url = new URL(shop.reader.url);
      url.port = String(port);
      const silent = new MySqlSource('shop', url.toString(), 'WAREHOUSE_SHOP_URL', { clientMarginMs: 1_000 });
      const error = await silent.copyKeys(query(`select order_id from orders where 'tpi_stall' <> ''`), {}, { statementTimeoutMs: 1_000 }, collector().sink, { maxRows: 10 }).catch((failure: unknown) => failure);
      expect((error as Error).name).toBe('MySqlReadTimeout');
      // Given up by the client's own deadline: the statement timeout plus the margin, never later.
      expect((error as MySqlReadTimeout).waitedMs).toBe(2_000);
      expect(silent.describeError(error, { subject: 'activation x' })).toMatchObject({ kind: 'transient' });
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => proxy.close(resolve));
    }
  });
});
