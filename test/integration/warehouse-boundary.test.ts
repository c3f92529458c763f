import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { databaseUrl } from '../../src/dev/embedded-postgres.ts';
import { seconds } from '../fixtures.ts';
import { FAST_PACING, acceptedReferences, createOrdersTable, createTestContext, ledgerByKey, runToEnd, saveServiceActivation, segmentRow, type TestContext } from './harness.ts';
import { exitOf, freePort, killAllWorkers, spawnApp, workerEnvFor, type AppProcess } from './processes.ts';

describe('a segment reads only what the operator granted', () => {
  let ctx: TestContext;
  let appRole: string;

  beforeAll(async () => {
    ctx = await createTestContext('boundary', { rateLimit: null });
    await ctx.startWorker();
    appRole = decodeURIComponent(new URL(ctx.databaseUrl).username);
  });
  afterAll(async () => {
    await killAllWorkers();
    await ctx.close();
  });

  /** A query segment (run as the reader role) with the usual columns. */
  async function querySegment(id: string, query: string, activation: Record<string, unknown> = {}, destination: Record<string, unknown> = {}): Promise<void> {
    await saveServiceActivation(ctx, id, { kind: 'query', sql: query }, { destination: { ...FAST_PACING, ...destination }, activation });
  }

  async function adminCount(query: string): Promise<number> {
    const result = await sql<{ n: number }>`${sql.raw(query)}`.execute(ctx.warehouseAdmin);
    return Number(result.rows[0]?.n ?? 0);
  }

  it('refuses pg_read_file: the run fails as misconfigured with 42501 and sends nothing', async () => {
    await querySegment(
      'read-file',
      `select pg_read_file('/etc/passwd') as order_id, 'Reader Probe' as customer_name, 'read.probe@shop.example.com' as customer_email`,
    );
    const accepted = ctx.fake.stats().accepted;
    const started = Date.now();
    const summary = await runToEnd(ctx, 'read-file');
    console.log(`pg_read_file: ${summary.status}/${summary.failureKind} in ${seconds(Date.now() - started)}: ${summary.error}`);
    expect(summary).toMatchObject({ status: 'failed', failureKind: 'misconfigured', sent: 0, newRows: 0 });
    expect(summary.error).toContain('42501');
    expect(summary.error).toMatch(/permission denied/i);
    expect(summary.error).not.toContain('root:');
    expect(ctx.fake.stats().accepted).toBe(accepted);
    expect((await ledgerByKey(ctx, 'read-file')).size).toBe(0);
  });

  it("refuses pg_authid: no role's password hash can be read", async () => {
    await querySegment(
      'password-hashes',
      `select rolname as order_id, rolpassword as customer_name, 'hash.probe@shop.example.com' as customer_email from pg_authid`,
    );
    const summary = await runToEnd(ctx, 'password-hashes');
    expect(summary).toMatchObject({ status: 'failed', failureKind: 'misconfigured', sent: 0, newRows: 0 });
    expect(summary.error).toContain('42501');
    expect(summary.error).not.toMatch(/SCRAM-SHA-256|md5[0-9a-f]{8}/);
    expect((await ledgerByKey(ctx, 'password-hashes')).size).toBe(0);
  });

  it("refuses a query reading the app's ledger, and another activation's pending customers are not invited", async () => {
    // The victim: an activation whose rows wait in the ledger with their invitations (Trustpilot is down).
    await createOrdersTable(ctx, 'victim_orders', Array.from({ length: 6 }, (_, index) => segmentRow('VI', index + 1)));
    await saveServiceActivation(ctx, 'victim', { kind: 'table', schema: 'shop', name: 'victim_orders' }, {
      destination: { ...FAST_PACING, circuitBreaker: { failuresInARow: 3 } },
    });
    ctx.fake.setFaults({ errorRates: { 503: 1 } });
    let victim;
    try {
      victim = await runToEnd(ctx, 'victim');
    } finally {
      ctx.fake.setFaults({});
    }
    expect(victim).toMatchObject({ status: 'failed', sent: 0 });
    const waiting = await ctx.db
      .selectFrom('app.ledger')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('activation_id', '=', 'victim')
      .where('status', 'in', ['pending', 'failed'])
      .where('payload', 'is not', null)
      .executeTakeFirstOrThrow();
    expect(Number(waiting.n)).toBe(6);

    await querySegment(
      'ledger-thief',
      `select row_key as order_id, payload->>'consumerName' as customer_name, payload->>'consumerEmail' as customer_email from app.ledger where payload is not null`,
    );
    const accepted = ctx.fake.stats().accepted;
    const summary = await runToEnd(ctx, 'ledger-thief');
    console.log(`app.ledger read: victim rows waiting ${waiting.n}; thief ${summary.status}/${summary.failureKind}: ${summary.error}`);
    expect(summary).toMatchObject({ status: 'failed', failureKind: 'misconfigured', sent: 0, newRows: 0 });
    expect(summary.error).toContain('42501');
    expect(summary.error).toMatch(/permission denied for schema app/);
    expect(ctx.fake.stats().accepted).toBe(accepted);
    expect(acceptedReferences(ctx, 'VI')).toEqual([]);
    expect((await ledgerByKey(ctx, 'ledger-thief')).size).toBe(0);
  });

  it('refuses lo_from_bytea: no large object is created', async () => {
    const before = await adminCount('select count(*)::int as n from pg_largeobject_metadata');
    await querySegment(
      'large-object',
      `select lo_from_bytea(0, 'x'::bytea)::text as order_id, 'Lo Probe' as customer_name, 'lo.probe@shop.example.com' as customer_email`,
    );
    const summary = await runToEnd(ctx, 'large-object');
    const after = await adminCount('select count(*)::int as n from pg_largeobject_metadata');
    console.log(`lo_from_bytea: ${summary.status}/${summary.failureKind}, large objects ${before} -> ${after}: ${summary.error}`);
    expect(summary).toMatchObject({ status: 'failed', failureKind: 'misconfigured', sent: 0 });
    expect(summary.error).toMatch(/25006|42501/);
    expect(summary.error).toMatch(/read-only|permission denied/i);
    expect(after).toBe(before);
  });

  it("cannot terminate the app's connections; the app keeps working", async () => {
    // Connections of the app's role that the test holds itself: they must survive.
    const pinned = [new pg.Client({ connectionString: ctx.databaseUrl }), new pg.Client({ connectionString: ctx.databaseUrl })];
    for (const client of pinned) await client.connect();
    try {
      const pinnedPids = await Promise.all(pinned.map(async (client) => (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]?.pid));
      const countQuery = `select count(*)::int as n from pg_stat_activity where usename = '${appRole}' and datname = current_database()`;
      const before = await adminCount(countQuery);
      await querySegment(
        'terminator',
        `select pg_terminate_backend(pid)::text as order_id, 'Kill Probe' as customer_name, 'kill.probe@shop.example.com' as customer_email
           from pg_stat_activity where pid <> pg_backend_pid() and datname = current_database()`,
      );
      const summary = await runToEnd(ctx, 'terminator');
      expect(summary).toMatchObject({ status: 'failed', failureKind: 'misconfigured', sent: 0 });
      expect(summary.error).toContain('42501');

      const stillThere = await Promise.all(
        pinned.map(async (client) => (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]?.pid),
      );
      expect(stillThere).toEqual(pinnedPids);
      const after = await adminCount(countQuery);

      // Another activation runs normally afterwards.
      await createOrdersTable(ctx, 'after_kill_orders', Array.from({ length: 3 }, (_, index) => segmentRow('AK', index + 1)));
      await saveServiceActivation(ctx, 'after-kill', { kind: 'table', schema: 'shop', name: 'after_kill_orders' }, { destination: FAST_PACING });
      const next = await runToEnd(ctx, 'after-kill');
      console.log(
        `pg_terminate_backend: ${summary.status}/${summary.failureKind}; backends of role ${appRole}: ${before} before, ${after} after; ` +
          `pinned ${pinnedPids.join(',')} alive; next run ${next.status}, sent ${next.sent}: ${summary.error}`,
      );
      expect(next).toMatchObject({ status: 'succeeded', sent: 3 });
      expect(after).toBeGreaterThanOrEqual(pinned.length);
    } finally {
      for (const client of pinned) await client.end().catch(() => undefined);
    }
  });

  it('refuses pg_reload_conf', async () => {
    await querySegment('reload', `select pg_reload_conf()::text as order_id, 'Reload Probe' as customer_name, 'reload.probe@shop.example.com' as customer_email`);
    const summary = await runToEnd(ctx, 'reload');
    console.log(`pg_reload_conf: ${summary.status}/${summary.failureKind}: ${summary.error}`);
    expect(summary).toMatchObject({ status: 'failed', failureKind: 'misconfigured', sent: 0 });
    expect(summary.error).toContain('42501');
    expect(summary.error).toMatch(/permission denied/i);
  });

  it("does not carry one segment's session settings into another's read", async () => {
    await createOrdersTable(ctx, 'session_a_orders', Array.from({ length: 3 }, (_, index) => segmentRow('SA', index + 1)));
    // B's table is in schema public, named without its schema: found through the reader's own search_path.
    await sql`create table public.session_b_orders (order_id text primary key, customer_name text, customer_email text)`.execute(ctx.warehouseAdmin);
    await sql`insert into public.session_b_orders select 'SB-' || i, 'Buyer SB ' || i, 'sb.' || i || '@shop.example.com' from generate_series(1, 4) i`.execute(
      ctx.warehouseAdmin,
    );
    await sql`grant select on public.session_b_orders to ${sql.id(inject('reader').user)}`.execute(ctx.warehouseAdmin);

    await querySegment(
      'session-a',
      `select order_id, customer_name, customer_email, set_config('statement_timeout', '1ms', false) as t, set_config('search_path', 'pg_catalog', false) as p
         from shop.session_a_orders`,
    );
    await querySegment('session-b', 'select order_id, customer_name, customer_email from session_b_orders');
    const a = await runToEnd(ctx, 'session-a');
    const b = await runToEnd(ctx, 'session-b');
    console.log(`session state: A ${a.status} (sent ${a.sent}${a.error ? `: ${a.error}` : ''}); B ${b.status}, sent ${b.sent}${b.error ? `: ${b.error}` : ''}`);
    expect(b).toMatchObject({ status: 'succeeded', newRows: 4, sent: 4, failed: 0 });
  });

  it('stops a query at its statement timeout, and leaves no app connection idle in a transaction', async () => {
    await createOrdersTable(ctx, 'slow_orders', [segmentRow('SL', 1)]);
    await querySegment('slow', 'select order_id, customer_name, customer_email, pg_sleep(5)::text as pause from shop.slow_orders', { statementTimeout: '1s' });

    // Samples the app's connections to its database while the run goes on.
    let sampling = true;
    let samples = 0;
    let heldOnRuns = 0;
    let heldAny = 0;
    const held: string[] = [];
    const sampler = (async () => {
      while (sampling) {
        const result = await sql<{ pid: number; query: string; held_ms: number }>`
          select pid, query, (extract(epoch from clock_timestamp() - state_change) * 1000)::int as held_ms
            from pg_stat_activity
           where datname = current_database() and usename = ${appRole} and state like 'idle in transaction%'
             and pid <> pg_backend_pid()`.execute(ctx.warehouseAdmin);
        samples++;
        // A transaction between two of its statements is idle for a moment; one left open while the warehouse is read is not.
        const long = result.rows.filter((row) => row.held_ms >= 300);
        if (long.length > 0) heldAny++;
        if (long.some((row) => row.query.includes('app.runs') || row.query.includes('"app"."runs"'))) heldOnRuns++;
        for (const row of long) held.push(`${row.pid} ${row.held_ms}ms: ${row.query.slice(0, 120)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    const started = Date.now();
    let summary;
    try {
      summary = await runToEnd(ctx, 'slow');
    } finally {
      sampling = false;
      await sampler;
    }
    const elapsed = Date.now() - started;
    const afterwards = await adminCount(
      `select count(*)::int as n from pg_stat_activity where datname = current_database() and usename = '${appRole}' and state like 'idle in transaction%' and pid <> pg_backend_pid()`,
    );
    console.log(
      `statement timeout 1s vs pg_sleep(5): ${summary.status}/${summary.failureKind} in ${seconds(elapsed)}; ${samples} samples, ` +
        `idle in transaction >= 300 ms: ${heldAny} (on app.runs: ${heldOnRuns}), afterwards ${afterwards}: ${summary.error}`,
    );
    expect(summary).toMatchObject({ status: 'failed', failureKind: 'misconfigured', sent: 0 });
    expect(summary.error).toMatch(/statement timeout/);
    expect(summary.error).toContain('57014');
    expect(elapsed).toBeLessThan(8_000);
    expect(samples).toBeGreaterThan(5);
    expect(held).toEqual([]);
    expect(heldOnRuns).toBe(0);
    expect(afterwards).toBe(0);
  });

  describe('the production worker refuses, at start, what would let it do more or go nowhere', () => {
    const readerPassword = () => inject('reader').password;

    function expectRefused(name: string, app: AppProcess, exit: { code: number | null; timedOut: boolean }, needles: string[]): void {
      const output = app.output();
      console.log(`worker start, ${name}: exit ${exit.code} after ${seconds(app.exitedAfterMs())}${exit.timedOut ? ' (killed: did not exit)' : ''}`);
      expect(exit.timedOut, output).toBe(false);
      expect(exit.code, output).not.toBe(0);
      expect(exit.code, output).not.toBeNull();
      for (const needle of needles) expect(output, `${name}: output should contain ${needle}`).toContain(needle);
      expect(output).not.toContain('"msg":"worker started"');
      // Passwords are never printed.
      expect(output).not.toContain(readerPassword());
    }

    it('a superuser warehouse connection, given or defaulted to DATABASE_URL; a wrong warehouse password; an unreachable Temporal; a bad DATABASE_URL', async () => {
      const wrongPassword = new URL(ctx.readerUrl);
      wrongPassword.password = 'not-the-password-x7';
      const unset = workerEnvFor(ctx);
      delete unset.WAREHOUSE_DATABASE_URL;
      const closedPort = await freePort();
      const noSuchDatabase = databaseUrl(inject('postgresAdminUrl'), `no_such_database_${randomBytes(3).toString('hex')}`);

      const cases: { name: string; env: NodeJS.ProcessEnv; needles: string[] }[] = [
        // With the log silenced: a refusal is still said.
        { name: 'superuser warehouse', env: workerEnvFor(ctx, { WAREHOUSE_DATABASE_URL: ctx.databaseUrl, LOG_LEVEL: 'silent' }), needles: ['WAREHOUSE_DATABASE_URL', 'superuser', 'CREATE ROLE', 'GRANT SELECT'] },
        { name: 'warehouse unset', env: unset, needles: ['WAREHOUSE_DATABASE_URL (unset, so DATABASE_URL)', 'superuser', 'CREATE ROLE', 'GRANT SELECT'] },
        { name: 'wrong warehouse password', env: workerEnvFor(ctx, { WAREHOUSE_DATABASE_URL: wrongPassword.toString() }), needles: ['WAREHOUSE_DATABASE_URL', '28P01'] },
        { name: 'invalid DATABASE_URL', env: workerEnvFor(ctx, { DATABASE_URL: 'mysql://app@localhost/app' }), needles: ['DATABASE_URL'] },
        { name: 'DATABASE_URL of no database', env: workerEnvFor(ctx, { DATABASE_URL: noSuchDatabase }), needles: ['DATABASE_URL', '3D000'] },
        { name: 'unreachable Temporal', env: workerEnvFor(ctx, { TEMPORAL_ADDRESS: `127.0.0.1:${closedPort}` }), needles: ['TEMPORAL_ADDRESS', `127.0.0.1:${closedPort}`] },
      ];
      // All at once (they share the machine's cores, so each takes longer to load its modules).
      const apps = cases.map((entry) => ({ ...entry, app: spawnApp(entry.name, 'dist/worker.js', entry.env) }));
      const exits = await Promise.all(apps.map(({ app }) => exitOf(app, 45_000)));
      apps.forEach(({ name, app, needles }, index) => expectRefused(name, app, exits[index] as { code: number | null; timedOut: boolean }, needles));
      const [, , password, invalid, , temporal] = apps.map(({ app }) => app);
      expect(invalid?.output()).toMatch(/DATABASE_URL: must be a postgres/);
      expect(invalid?.output()).not.toContain('mysql://app@localhost');
      expect(password?.output()).not.toContain('not-the-password-x7');
      // The invalid DATABASE_URL stops right after the modules are loaded: what the unreachable
      // Temporal takes beyond it is its own (database checks, then the connection attempt).
      const loaded = invalid?.exitedAfterMs() ?? NaN;
      const temporalMs = (temporal?.exitedAfterMs() ?? NaN) - loaded;
      console.log(`worker start, unreachable Temporal: exited ${seconds(temporalMs)} after a worker that stops once its modules are loaded`);
      expect(temporalMs).toBeLessThan(10_000);
    });
  });
});
