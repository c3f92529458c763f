import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createUntypedDb, type UntypedDb } from '../../src/db/database.ts';
import { databaseUrl } from '../../src/dev/embedded-postgres.ts';
import { copySegmentKeys, describeSource, readRowsByKeys } from '../../src/source/postgres/read.ts';
import type { SourceShape } from '../../src/source/types.ts';
import { PostgresWarehouse as Warehouse } from '../../src/source/postgres/connection.ts';
import { seconds } from '../fixtures.ts';
import {
  FAST_PACING,
  acceptedReferences,
  createOrdersTable,
  createTestContext,
  historyText,
  ledgerByKey,
  runCli,
  runToEnd,
  saveServiceActivation,
  segmentRow,
  waitFor,
  type TestContext,
  postgresWarehouse,
} from './harness.ts';
import { workerEnvFor } from './processes.ts';

/**
 * The segment boundary as the database enforces it, on the oldest and the newest supported
 * Postgres: what a segment's SQL can do is decided by the server's parser and the reader role's
 * privileges, checked at every read, never by the product's own lexer; no message quotes a row's
 * value; every read ends; one bad row never stops the others.
 */

const LIMITS = { statementTimeoutMs: 10_000 };

/** The shape of a segment with the usual columns, keyed by a text order_id. */
function shapeOf(query: string): SourceShape {
  return {
    source: { kind: 'query', sql: query },
    primaryKey: [{ name: 'order_id', kind: 'text', native: 25, typeName: 'text' }],
    mappedColumns: ['customer_email', 'customer_name', 'order_id'],
  };
}

/** A sink that keeps what a COPY sends (row keys and cursor values as text). */
function collector(): { sink: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  return { sink, text: () => Buffer.concat(chunks).toString('utf8') };
}

/** A login role of its own that can read schema `shop` of the test database, as an operator would create it. */
async function createReader(admin: UntypedDb, serverAdminUrl: string, database: string, prefix: string): Promise<{ role: string; password: string; url: string }> {
  const role = `${prefix}_${randomBytes(4).toString('hex')}`;
  const password = `pw-${randomBytes(6).toString('hex')}`;
  await sql`create role ${sql.id(role)} login nosuperuser nocreatedb nocreaterole noinherit password ${sql.lit(password)}`.execute(admin);
  await sql`grant usage on schema shop to ${sql.id(role)}`.execute(admin);
  await sql`grant select on all tables in schema shop to ${sql.id(role)}`.execute(admin);
  await sql`alter default privileges in schema shop grant select on tables to ${sql.id(role)}`.execute(admin);
  return { role, password, url: databaseUrl(serverAdminUrl, database, { user: role, password }) };
}

async function dropRole(admin: UntypedDb, role: string): Promise<void> {
  await sql`reassign owned by ${sql.id(role)} to current_user`.execute(admin).catch(() => undefined);
  await sql`drop owned by ${sql.id(role)}`.execute(admin).catch(() => undefined);
  await sql`drop role if exists ${sql.id(role)}`.execute(admin);
}

const servers = inject('boundaryServers');

describe.each(servers)('the segment boundary on $label', ({ adminUrl }) => {
  let ctx: TestContext;
  let database: string;
  let reader: { role: string; password: string; url: string };
  let warehouse: Warehouse;

  beforeAll(async () => {
    ctx = await createTestContext('seg-boundary', { rateLimit: null }, { postgresAdminUrl: adminUrl });
    database = new URL(ctx.databaseUrl).pathname.slice(1);
    await createOrdersTable(ctx, 'orders', Array.from({ length: 4 }, (_, index) => segmentRow('SB', index + 1)));
    reader = await createReader(ctx.warehouseAdmin, adminUrl, database, 'tpi_sb');
    warehouse = new Warehouse(reader.url);
    await ctx.startWorker({ warehouses: postgresWarehouse(reader.url) });
  });
  afterAll(async () => {
    await ctx.close();
    const admin = createUntypedDb(databaseUrl(adminUrl, database), { max: 1 });
    try {
      await dropRole(admin, reader.role);
    } finally {
      await admin.destroy();
    }
  });

  /** What a hidden statement would have left behind on the server. */
  async function traces(): Promise<{ roleSettings: number; largeObjects: number; canLogIn: boolean }> {
    const settings = await sql<{ n: number }>`
      select count(*)::int as n from pg_db_role_setting s join pg_roles r on r.oid = s.setrole where r.rolname = ${reader.role}`.execute(ctx.warehouseAdmin);
    const objects = await sql<{ n: number }>`select count(*)::int as n from pg_largeobject_metadata`.execute(ctx.warehouseAdmin);
    const canLogIn = await warehouse
      .read(LIMITS, async (session) => (await session.query<{ one: number }>({ sql: 'select 1 as one', parameters: [] })).rows[0]?.one === 1)
      .catch(() => false);
    return { roleSettings: settings.rows[0]?.n ?? -1, largeObjects: objects.rows[0]?.n ?? -1, canLogIn };
  }

  it('statements hidden in a segment run nowhere: not at validate or apply (describe), not in the scan (COPY), not in the claims', async () => {
    const before = await traces();
    // Each closes the segment's parentheses and appends statements a reader role may run outside a
    // READ ONLY transaction; the comment forms are those a home-made lexer gets wrong.
    const hidden = [
      `select order_id, customer_name, customer_email from shop.orders) as src limit 0; alter role current_user set datestyle = 'SQL, DMY'; select * from (select 1 as x`,
      `select order_id, customer_name, customer_email from shop.orders -- a note\r) as src; alter role current_user password 'taken-over'; select * from (select 1 as x`,
      `select 1 as é$q$, order_id, customer_name, customer_email from shop.orders) as src; select lo_from_bytea(0, 'x'::bytea); select * from (select 1 as x$q$`,
      `select order_id, customer_name, customer_email from shop.orders) as src limit 1) to stdout; alter role current_user set timezone = 'Asia/Tokyo'; copy (select 1 from (select 1 as x`,
      `select order_id, customer_name, customer_email from shop.orders /* a note */ ) as src; begin; alter role current_user set search_path = pg_catalog; commit; select * from (select 1`,
    ];
    const outcomes: string[] = [];
    for (const query of hidden) {
      const shape = shapeOf(query);
      // One at a time, each awaited as it starts: no read's failure goes unobserved.
      const attempts: (() => Promise<unknown>)[] = [
        () => describeSource(warehouse, shape.source, LIMITS),
        () => copySegmentKeys(warehouse, shape, {}, LIMITS, collector().sink, { maxRows: 1_000 }),
        () => readRowsByKeys(warehouse, shape, ['SB-001'], LIMITS),
      ];
      for (const attempt of attempts) {
        const error = await attempt().then(
          () => undefined,
          (failure: unknown) => failure as { code?: string; message?: string },
        );
        outcomes.push(error?.code ?? 'ran');
      }
    }
    const after = await traces();
    console.log(`hidden statements: outcomes ${outcomes.join(',')}; traces before ${JSON.stringify(before)}, after ${JSON.stringify(after)}`);
    // Refused by the server: several commands in one Parse (42601), or a syntax error in what is left.
    expect(outcomes.every((code) => code === '42601')).toBe(true);
    expect(after).toEqual(before);
    expect(after.roleSettings).toBe(0);
    expect(after.canLogIn).toBe(true);
  });

  it('a large object created inside the segment does not persist: every read is rolled back', async () => {
    const before = await traces();
    const shape = shapeOf(`select lo_from_bytea(0, 'x'::bytea)::text as order_id, 'Lo Probe' as customer_name, 'lo.probe@shop.example.com' as customer_email`);
    const scanned = collector();
    const outcome = await copySegmentKeys(warehouse, shape, {}, LIMITS, scanned.sink, { maxRows: 1_000 }).then(
      () => 'read',
      (error: unknown) => (error as { code?: string }).code ?? 'failed',
    );
    const after = await traces();
    // Postgres 16 and later refuse lo_from_bytea in a read-only transaction; older versions allow it there.
    console.log(`lo_from_bytea in a segment: ${outcome}; large objects ${before.largeObjects} -> ${after.largeObjects}`);
    expect(['read', '25006']).toContain(outcome);
    expect(after.largeObjects).toBe(before.largeObjects);
  });

  it('a trailing semicolon and comment are handled: the segment validates and runs', async () => {
    await saveServiceActivation(
      ctx,
      'trailing',
      { kind: 'query', sql: 'select order_id, customer_name, customer_email from shop.orders where order_id <= \'SB-002\';  -- the first two\n' },
      { destination: FAST_PACING },
    );
    const summary = await runToEnd(ctx, 'trailing');
    expect(summary).toMatchObject({ status: 'succeeded', newRows: 2, sent: 2 });
  });

  it('a superuser role granted to the reader after the worker started fails the next run, naming it; revoked, runs go on', async () => {
    await createOrdersTable(ctx, 'grant_orders', Array.from({ length: 3 }, (_, index) => segmentRow('GR', index + 1)));
    await saveServiceActivation(ctx, 'later-grant', { kind: 'table', schema: 'shop', name: 'grant_orders' }, { destination: FAST_PACING });
    await createOrdersTable(ctx, 'grant_orders_2', []);
    const first = await runToEnd(ctx, 'later-grant');
    expect(first).toMatchObject({ status: 'succeeded', sent: 3 });

    const powerful = `tpi_admin_${randomBytes(3).toString('hex')}`;
    await sql`create role ${sql.id(powerful)} superuser nologin`.execute(ctx.warehouseAdmin);
    try {
      await sql`grant ${sql.id(powerful)} to ${sql.id(reader.role)}`.execute(ctx.warehouseAdmin);
      await ctx.warehouseAdmin.insertInto('shop.grant_orders').values([segmentRow('GR', 4)]).execute();
      const refused = await runToEnd(ctx, 'later-grant');
      console.log(`after GRANT of a superuser role: ${refused.status}/${refused.failureKind}: ${refused.error}`);
      expect(refused).toMatchObject({ status: 'failed', failureKind: 'misconfigured', sent: 0 });
      expect(refused.error).toContain(powerful);
      expect(refused.error).toMatch(/superuser/);
      expect(acceptedReferences(ctx, 'GR')).toHaveLength(3);
    } finally {
      await sql`revoke ${sql.id(powerful)} from ${sql.id(reader.role)}`.execute(ctx.warehouseAdmin);
      await sql`drop role ${sql.id(powerful)}`.execute(ctx.warehouseAdmin);
    }
    const again = await runToEnd(ctx, 'later-grant');
    expect(again).toMatchObject({ status: 'succeeded', sent: 1 });
  });

  it('an error that quotes a value leaves no value in the reason, the history or the CLI', async () => {
    await createOrdersTable(ctx, 'quoting_orders', Array.from({ length: 2 }, (_, index) => segmentRow('QV', index + 1)));
    const cases = {
      // In the WHERE clause, so that every read evaluates them (an unused column is never computed).
      'quote-setting': `select order_id, customer_name, customer_email from shop.quoting_orders where current_setting(customer_email) is not null`,
      'quote-regclass': `select order_id, customer_name, customer_email from shop.quoting_orders where customer_email::regclass is not null`,
      'quote-name': `select order_id, customer_name, customer_email from shop.quoting_orders where customer_name::regtype is not null`,
    };
    for (const [id, query] of Object.entries(cases)) {
      await saveServiceActivation(ctx, id, { kind: 'query', sql: query }, { destination: FAST_PACING });
      const summary = await runToEnd(ctx, id);
      const { workflow_id: workflowId } = await ctx.db.selectFrom('app.runs').select('workflow_id').where('id', '=', summary.runId).executeTakeFirstOrThrow();
      const history = historyText(await ctx.temporal.workflow.getHandle(workflowId).fetchHistory());
      const cli = await runCli(['runs', id, '--json'], workerEnvFor(ctx));
      const seen = [summary.error ?? '', history, cli.stdout, cli.stderr].join('\n');
      expect(cli.stdout).toContain(id);
      console.log(`${id}: ${summary.status}/${summary.failureKind}: ${summary.error}`);
      expect(summary).toMatchObject({ status: 'failed', failureKind: 'misconfigured', sent: 0 });
      expect(summary.error).toMatch(/SQLSTATE [0-9A-Z]{5}/);
      expect(seen).not.toMatch(/qv\.\d@shop\.example\.com|Buyer QV/);
    }
  });

  it('a key longer than the ledger holds is counted and reported; the other rows are sent', async () => {
    await createOrdersTable(ctx, 'long_key_orders', [...Array.from({ length: 4 }, (_, index) => segmentRow('LK', index + 1)), { ...segmentRow('LK', 5), order_id: `LK-${'x'.repeat(3_000)}` }]);
    await saveServiceActivation(ctx, 'long-key', { kind: 'table', schema: 'shop', name: 'long_key_orders' }, { destination: FAST_PACING });
    const summary = await runToEnd(ctx, 'long-key');
    console.log(`over-long key: ${summary.status}, sent ${summary.sent}, oversized ${summary.oversizedKeys}: ${summary.warnings.join(' | ')}`);
    expect(summary).toMatchObject({ status: 'succeeded', sent: 4, oversizedKeys: 1, newRows: 4 });
    expect(summary.warnings.join(' ')).toMatch(/longer than 2048 bytes/);
    expect(acceptedReferences(ctx, 'LK').sort()).toEqual(['LK-001', 'LK-002', 'LK-003', 'LK-004']);
    // A second run finds nothing new and reports the row again.
    const second = await runToEnd(ctx, 'long-key');
    expect(second).toMatchObject({ status: 'succeeded', sent: 0, newRows: 0, oversizedKeys: 1 });
  });

  it('keys that change between the scan and the read (a volatile key) are reported, not a silent zero', async () => {
    await saveServiceActivation(
      ctx,
      'volatile-key',
      { kind: 'query', sql: `select md5(random()::text) as order_id, customer_name, customer_email from shop.orders` },
      { destination: FAST_PACING },
    );
    const summary = await runToEnd(ctx, 'volatile-key');
    console.log(`volatile key: ${summary.status}, new ${summary.newRows}, sent ${summary.sent}, vanished ${summary.vanishedRows}: ${summary.warnings.join(' | ')}`);
    expect(summary).toMatchObject({ status: 'succeeded', newRows: 4, sent: 0, vanishedRows: 4 });
    expect(summary.warnings.join(' ')).toMatch(/volatile/);
    expect((await ledgerByKey(ctx, 'volatile-key')).size).toBe(0);
  });
});

describe.each(servers)('settings and bounds the product pins on $label', ({ adminUrl }) => {
  let ctx: TestContext;
  let database: string;
  const roles: string[] = [];

  beforeAll(async () => {
    ctx = await createTestContext('seg-pinned', { rateLimit: null }, { postgresAdminUrl: adminUrl });
    database = new URL(ctx.databaseUrl).pathname.slice(1);
  });
  afterAll(async () => {
    await ctx.close();
    const admin = createUntypedDb(databaseUrl(adminUrl, database), { max: 1 });
    try {
      for (const role of roles) await dropRole(admin, role);
    } finally {
      await admin.destroy();
    }
  });

  it("role-level settings change nothing the product reads: keys, cursor values and fingerprints are the same as a plain reader's", async () => {
    await sql`create table shop.stamped (order_id timestamp primary key, customer_name text, customer_email text, amount float8, placed_at timestamptz not null)`.execute(ctx.warehouseAdmin);
    await sql`insert into shop.stamped
                select timestamp '2026-03-04 05:06:07.891' + i * interval '1 day 1 hour', 'Buyer ' || i, 'b' || i || '@shop.example.com', i / 3.0,
                       timestamptz '2026-03-04 23:30:00+00' + i * interval '17 minutes'
                  from generate_series(1, 5) i`.execute(ctx.warehouseAdmin);
    const plain = await createReader(ctx.warehouseAdmin, adminUrl, database, 'tpi_plain');
    const tweaked = await createReader(ctx.warehouseAdmin, adminUrl, database, 'tpi_tweaked');
    roles.push(plain.role, tweaked.role);
    for (const setting of [
      sql`set datestyle = 'SQL, DMY'`,
      sql`set timezone = 'America/New_York'`,
      sql`set intervalstyle = 'sql_standard'`,
      sql`set extra_float_digits = -15`,
      sql`set standard_conforming_strings = off`,
      sql`set search_path = pg_catalog`,
      sql`set bytea_output = 'escape'`,
      sql`set statement_timeout = 0`,
    ]) {
      await sql`alter role ${sql.id(tweaked.role)} ${setting}`.execute(ctx.warehouseAdmin);
    }
    const shape: SourceShape = {
      source: { kind: 'query', sql: `select order_id, customer_name, customer_email, amount, placed_at from shop.stamped where customer_name <> 'it''s'` },
      primaryKey: [{ name: 'order_id', kind: 'timestamp', native: 1114, typeName: 'timestamp without time zone' }],
      mappedColumns: ['amount', 'customer_email', 'customer_name'],
      cursor: { name: 'placed_at', kind: 'timestamptz', native: 1184, typeName: 'timestamp with time zone' },
    };
    const read = async (url: string) => {
      const target = new Warehouse(url);
      const keys = collector();
      await copySegmentKeys(target, shape, { cursorSince: '2026-03-05T00:00:00.000Z' }, LIMITS, keys.sink, { maxRows: 1_000 });
      const lines = keys.text().trim().split('\n').sort();
      const rows = await readRowsByKeys(target, shape, lines.map((line) => line.split('\t')[0] ?? ''), LIMITS);
      return { lines, fingerprints: [...rows.values()].map((row) => `${row.rowKey}=${row.fingerprint}`).sort() };
    };
    const expected = await read(plain.url);
    const actual = await read(tweaked.url);
    console.log(`pinned settings: ${actual.lines.length} keys; first ${actual.lines[0]}`);
    expect(expected.lines.length).toBe(4);
    expect(expected.lines[0]).toMatch(/^2026-03-06T07:06:07\.891Z\t2026-03-05T00:\d\d:00\.000000Z$/);
    expect(actual).toEqual(expected);
  });

  it('a role-level statement_timeout of 0 does not unbound a read: the activation timeout holds', async () => {
    const unbounded = await createReader(ctx.warehouseAdmin, adminUrl, database, 'tpi_notimeout');
    roles.push(unbounded.role);
    await sql`alter role ${sql.id(unbounded.role)} set statement_timeout = 0`.execute(ctx.warehouseAdmin);
    const started = Date.now();
    const shape = shapeOf(`select order_id, customer_name, customer_email from (values ('T-1', 'Buyer', 't@shop.example.com')) as v(order_id, customer_name, customer_email) where pg_sleep(5) is not null`);
    const error = await copySegmentKeys(new Warehouse(unbounded.url), shape, {}, { statementTimeoutMs: 1_000 }, collector().sink, { maxRows: 10 }).then(
      () => undefined,
      (failure: unknown) => failure as { code?: string },
    );
    expect(error?.code).toBe('57014');
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it('a stopped warehouse backend: the read is abandoned soon after its statement timeout and the run ends', async () => {
    await createOrdersTable(ctx, 'stall_orders', Array.from({ length: 3 }, (_, index) => segmentRow('ST', index + 1)));
    const stallReader = await createReader(ctx.warehouseAdmin, adminUrl, database, 'tpi_stall');
    roles.push(stallReader.role);
    await ctx.startWorker({ warehouses: postgresWarehouse(stallReader.url, { clientMarginMs: 3_000 }) });
    // Each row takes a moment, so the scan is still going when its backend is stopped.
    await saveServiceActivation(
      ctx,
      'stalled',
      { kind: 'query', sql: 'select order_id, customer_name, customer_email from shop.stall_orders where pg_sleep(0.4) is not null' },
      { destination: FAST_PACING, activation: { statementTimeout: '4s' } },
    );
    const started = Date.now();
    const running = runToEnd(ctx, 'stalled');
    const stopped = await waitFor(
      'the scan of the stalled activation',
      async () => {
        const result = await sql<{ pid: number }>`
          select pid from pg_stat_activity
           where usename = ${stallReader.role} and state = 'active' and query ilike 'copy%'`.execute(ctx.warehouseAdmin);
        return result.rows[0]?.pid;
      },
      30_000,
      50,
    );
    process.kill(stopped, 'SIGSTOP');
    let summary;
    try {
      summary = await running;
    } finally {
      process.kill(stopped, 'SIGCONT');
      await sql`select pg_terminate_backend(${stopped})`.execute(ctx.warehouseAdmin).catch(() => undefined);
    }
    const elapsed = Date.now() - started;
    console.log(`stopped backend ${stopped}: run ${summary.status} in ${seconds(elapsed)}, sent ${summary.sent}${summary.error ? `: ${summary.error}` : ''}`);
    // The stopped read is given up at 4 s + 3 s; the retry (after 5 s) reads through a new backend.
    expect(summary).toMatchObject({ status: 'succeeded', sent: 3 });
    expect(elapsed).toBeLessThan(45_000);
  });

  it('a segment larger than SCAN_MAX_ROWS fails its run saying so, and the app session holds no snapshot while the warehouse streams', async () => {
    const capped = await createReader(ctx.warehouseAdmin, adminUrl, database, 'tpi_capped');
    roles.push(capped.role);
    const capCtx = await createTestContext('seg-capped', { rateLimit: null }, { postgresAdminUrl: adminUrl });
    try {
      await capCtx.startWorker({ scanLimits: { maxRows: 1_000, maxBytes: 10_000_000, tempFileLimit: '1GB' } });
      await saveServiceActivation(
        capCtx,
        'generator',
        { kind: 'query', sql: `select 'G-' || i as order_id, 'Buyer ' || i as customer_name, 'g' || i || '@shop.example.com' as customer_email from generate_series(1, 5000) i` },
        { destination: FAST_PACING },
      );
      const summary = await runToEnd(capCtx, 'generator');
      console.log(`SCAN_MAX_ROWS 1000 vs 5000 rows: ${summary.status}/${summary.failureKind}: ${summary.error}`);
      expect(summary).toMatchObject({ status: 'failed', failureKind: 'misconfigured', sent: 0, newRows: 0 });
      expect(summary.error).toContain('SCAN_MAX_ROWS');

      // A slow segment under the cap: the app's loading statement never waits on the warehouse.
      await saveServiceActivation(
        capCtx,
        'slow-stream',
        { kind: 'query', sql: `select 'S-' || i as order_id, 'Buyer ' || i as customer_name, 's' || i || '@shop.example.com' as customer_email from generate_series(1, 300) i where pg_sleep(0.01) is not null` },
        { destination: FAST_PACING },
      );
      let sampling = true;
      const longLoads: string[] = [];
      const sampler = (async () => {
        while (sampling) {
          const result = await sql<{ held_ms: number }>`
            select (extract(epoch from clock_timestamp() - query_start) * 1000)::int as held_ms from pg_stat_activity
             where datname = current_database() and state = 'active' and query ilike 'copy tpi_scan%'`.execute(capCtx.warehouseAdmin);
          for (const row of result.rows) if (row.held_ms > 1_000) longLoads.push(`${row.held_ms} ms`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })();
      let slow;
      try {
        slow = await runToEnd(capCtx, 'slow-stream');
      } finally {
        sampling = false;
        await sampler;
      }
      console.log(`slow stream: ${slow.status}, sent ${slow.sent}; app loads held over 1 s: ${longLoads.length}`);
      expect(slow).toMatchObject({ status: 'succeeded', sent: 300 });
      expect(longLoads).toEqual([]);
    } finally {
      await capCtx.close();
    }
  });
});
