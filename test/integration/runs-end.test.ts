import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { saveDestination } from '../../src/db/config-store.ts';
import { DEFAULT_APPLICATION } from '../../src/fake-trustpilot/defaults.ts';
import { FAKE_DEFAULTS } from '../../src/fake-trustpilot/server.ts';
import { foldForMatching } from '../../src/trustpilot/withhold.ts';
import { seconds } from '../fixtures.ts';
import {
  FAST_PACING,
  acceptedReferences,
  createOrdersTable,
  createTestContext,
  historyText,
  ledgerByKey,
  runToEnd,
  saveServiceActivation,
  segmentRow,
  serviceDestination,
  waitFor,
  waitToEnd,
  type TestContext,
  postgresWarehouse,
} from './harness.ts';
import { killAllWorkers, spawnApp, workerEnvFor, type AppProcess } from './processes.ts';

/**
 * The pacing test's destination has a Trustpilot application (API key) of its own: destinations
 * sharing a key must share one rate limit, and its slot must not hold back the other tests.
 */
const PACE_APPLICATION = { apiKey: 'pace-api-key', apiSecret: 'pace-api-secret', businessUserIds: [FAKE_DEFAULTS.businessUserId], users: [] };
const PACE_ENV = { PACE_API_KEY: PACE_APPLICATION.apiKey, PACE_API_SECRET: PACE_APPLICATION.apiSecret, PACE_BUSINESS_USER_ID: FAKE_DEFAULTS.businessUserId };
const PACE_CREDENTIALS = { grant: 'client_credentials', apiKeyEnv: 'PACE_API_KEY', apiSecretEnv: 'PACE_API_SECRET', businessUserIdEnv: 'PACE_BUSINESS_USER_ID' } as const;
/** A key of its own for the run whose rate limit is raised while it goes. */
const LIVE_APPLICATION = { apiKey: 'live-pace-api-key', apiSecret: 'live-pace-api-secret', businessUserIds: [FAKE_DEFAULTS.businessUserId], users: [] };
const LIVE_ENV = { LIVE_PACE_API_KEY: LIVE_APPLICATION.apiKey, LIVE_PACE_API_SECRET: LIVE_APPLICATION.apiSecret };
const LIVE_CREDENTIALS = { grant: 'client_credentials', apiKeyEnv: 'LIVE_PACE_API_KEY', apiSecretEnv: 'LIVE_PACE_API_SECRET', businessUserIdEnv: 'PACE_BUSINESS_USER_ID' } as const;

/** Every reading of a text worth searching for personal data: as written, JSON escapes decoded, folded (case, accents). */
function searchable(text: string): string {
  const unescaped = text.replace(/\\u([0-9a-fA-F]{4})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  return `${text}\n${foldForMatching(unescaped)}`;
}

/** The personal values (and their folded forms) found in `text`. */
function leaksIn(text: string, values: Iterable<string>): string[] {
  const haystack = searchable(text);
  return [...values].filter((value) => haystack.includes(value) || haystack.includes(foldForMatching(value)));
}

describe('every run ends, with a reason an operator can act on', () => {
  let ctx: TestContext;
  /** the production worker, logging at debug level, that serves every run until the last test */
  let worker: AppProcess;
  /** every customer name and email of every table of this file */
  const personal = new Set<string>();

  beforeAll(async () => {
    ctx = await createTestContext('runs-end', { rateLimit: null, applications: [DEFAULT_APPLICATION, PACE_APPLICATION, LIVE_APPLICATION] });
    worker = spawnApp('debug worker', 'dist/worker.js', workerEnvFor(ctx, { LOG_LEVEL: 'debug', TEMPORAL_LOG_LEVEL: 'DEBUG', ...PACE_ENV, ...LIVE_ENV }));
    await worker.ready(90_000);
  });
  afterAll(async () => {
    await killAllWorkers();
    await ctx.close();
  });

  async function table(name: string, rows: Record<string, unknown>[]): Promise<void> {
    for (const row of rows) {
      personal.add(String(row.customer_name));
      personal.add(String(row.customer_email));
    }
    await createOrdersTable(ctx, name, rows);
  }

  const rows = (prefix: string, count: number) => Array.from({ length: count }, (_, index) => segmentRow(prefix, index + 1));

  async function workflowIdOf(runId: number): Promise<string> {
    return (await ctx.db.selectFrom('app.runs').select('workflow_id').where('id', '=', runId).executeTakeFirstOrThrow()).workflow_id;
  }

  /** The decoded history of every execution (continued-as-new included) of a run's workflow. */
  async function historiesOf(workflowId: string): Promise<string[]> {
    const texts: string[] = [];
    for await (const execution of ctx.temporal.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
      texts.push(historyText(await ctx.temporal.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory()));
    }
    return texts;
  }

  /** The lock is released: another run of the activation starts (whatever its outcome), it is not skipped. */
  async function expectNextRunNotSkipped(activationId: string): Promise<string> {
    const next = await runToEnd(ctx, activationId);
    expect(next.status, `${activationId}: ${next.error ?? ''}`).not.toBe('skipped');
    return next.status;
  }

  it('a RAISE in the segment fails the run at once, with its SQLSTATE and without the customer it named, anywhere', async () => {
    const raised = rows('RA', 5);
    raised[2] = { ...raised[2], customer_name: 'Zoë Ångström', customer_email: 'zoe.angstrom@shop.example.com' };
    await table('raise_orders', raised);
    await sql`
      create function shop.screen_customer(name text) returns text language plpgsql as $$
      begin
        if name like 'Zo%' then raise exception 'customer % is blocked', name; end if;
        return name;
      end $$`.execute(ctx.warehouseAdmin);
    await sql`grant execute on function shop.screen_customer(text) to ${sql.id(inject('reader').user)}`.execute(ctx.warehouseAdmin);
    await saveServiceActivation(
      ctx,
      'raise',
      { kind: 'query', sql: 'select order_id, shop.screen_customer(customer_name) as customer_name, customer_email from shop.raise_orders' },
      { destination: FAST_PACING },
    );

    const started = Date.now();
    const summary = await runToEnd(ctx, 'raise');
    const elapsed = Date.now() - started;
    const histories = await historiesOf(await workflowIdOf(summary.runId));
    const secrets = ['Zoë', 'Ångström', 'zoe.angstrom', 'is blocked'];
    const inHistory = histories.flatMap((text) => leaksIn(text, secrets));
    const inLog = leaksIn(worker.output(), secrets);
    const next = await expectNextRunNotSkipped('raise');
    console.log(
      `RAISE: ${summary.status}/${summary.failureKind} in ${seconds(elapsed)}, ${histories.length} execution(s), leaks in history ${inHistory.length}, in the log ${inLog.length}; next run ${next}: ${summary.error}`,
    );
    expect(summary).toMatchObject({ status: 'failed', failureKind: 'misconfigured', sent: 0 });
    expect(elapsed).toBeLessThan(10_000);
    expect(summary.error).toContain('P0001');
    expect(leaksIn(summary.error ?? '', secrets)).toEqual([]);
    expect(histories.length).toBeGreaterThan(0);
    expect(histories.join('\n')).toContain('P0001');
    expect(inHistory).toEqual([]);
    expect(inLog).toEqual([]);
    expect(acceptedReferences(ctx, 'RA')).toEqual([]);
  });

  it('a primary key column that is not in the source fails the run at once, naming the column', async () => {
    await table('key_orders', rows('PK', 3));
    await saveServiceActivation(ctx, 'bad-key', { kind: 'table', schema: 'shop', name: 'key_orders' }, { destination: FAST_PACING, activation: { primaryKey: 'a.b.c' } });
    const started = Date.now();
    const summary = await runToEnd(ctx, 'bad-key');
    const elapsed = Date.now() - started;
    const next = await expectNextRunNotSkipped('bad-key');
    console.log(`primaryKey 'a.b.c': ${summary.status}/${summary.failureKind} in ${seconds(elapsed)}; next run ${next}: ${summary.error}`);
    expect(summary).toMatchObject({ status: 'failed', failureKind: 'misconfigured', sent: 0, newRows: 0 });
    expect(summary.error).toContain("'a.b.c'");
    expect(summary.error).toMatch(/primaryKey/);
    expect(elapsed).toBeLessThan(10_000);
    expect((await ledgerByKey(ctx, 'bad-key')).size).toBe(0);
  });

  it('the circuit breaker ends a run against a Trustpilot that answers 503 to everything, after a few calls; the rows wait and are sent by the next run', async () => {
    await table('breaker_orders', rows('CB', 300));
    await saveServiceActivation(ctx, 'breaker', { kind: 'table', schema: 'shop', name: 'breaker_orders' }, {
      destination: { ...FAST_PACING, circuitBreaker: { failuresInARow: 5 } },
    });
    const before = ctx.fake.stats();
    ctx.fake.setFaults({ errorRates: { 503: 1 } });
    const started = Date.now();
    let summary;
    try {
      summary = await runToEnd(ctx, 'breaker');
    } finally {
      ctx.fake.setFaults({});
    }
    const elapsed = Date.now() - started;
    const after = ctx.fake.stats();
    const calls = after.requests - before.requests;
    const unavailable = (after.byStatus['503'] ?? 0) - (before.byStatus['503'] ?? 0);
    const ledger = await ledgerByKey(ctx, 'breaker');
    const statuses = new Map<string, number>();
    for (const entry of ledger.values()) statuses.set(entry.status, (statuses.get(entry.status) ?? 0) + 1);
    console.log(
      `circuit breaker: ${summary.status}/${summary.failureKind} in ${seconds(elapsed)} after ${calls} calls (${unavailable} answered 503) for 300 rows; ` +
        `ledger ${JSON.stringify(Object.fromEntries(statuses))}, in doubt ${summary.inDoubt}: ${summary.error}`,
    );
    expect(summary).toMatchObject({ status: 'failed', failureKind: 'unavailable', sent: 0, newRows: 300 });
    expect(summary.error).toMatch(/5 times in a row/);
    expect(elapsed).toBeLessThan(60_000);
    expect(calls).toBeLessThan(40);
    expect(unavailable).toBeGreaterThanOrEqual(5);
    expect(ledger.size).toBe(300);
    expect([...statuses.keys()].filter((status) => status !== 'failed' && status !== 'pending')).toEqual([]);
    expect(acceptedReferences(ctx, 'CB')).toEqual([]);

    const healthyStarted = Date.now();
    const healthy = await runToEnd(ctx, 'breaker');
    console.log(`circuit breaker, next run with Trustpilot healthy: ${healthy.status} in ${seconds(Date.now() - healthyStarted)}: retried ${healthy.retriedRows}, sent ${healthy.sent}, in doubt ${healthy.inDoubt}`);
    expect(healthy).toMatchObject({ status: 'succeeded', retriedRows: 300, newRows: 0, sent: 300, failed: 0 });
    const accepted = acceptedReferences(ctx, 'CB');
    expect(accepted).toHaveLength(300);
    expect(new Set(accepted).size).toBe(300);
  });

  it("keeps no email or name of Trustpilot's answer on the ledger row, even one put where a code belongs", async () => {
    const name = 'Renée Ørsted-Løkke';
    const email = 'renee.orsted@shop.example.com';
    await table('reject_orders', [{ ...segmentRow('RJ', 1), customer_name: name, customer_email: email }]);
    await saveServiceActivation(ctx, 'rejected', { kind: 'table', schema: 'shop', name: 'reject_orders' }, { destination: FAST_PACING });
    ctx.fake.setFaults({
      errorRates: { 422: 1 },
      errorBodies: {
        422: {
          errorCode: email,
          message: `${name} has opted out of review invitations`,
          details: [{ field: email, message: `${name} <${email}> is on the suppression list` }],
        },
      },
    });
    let summary;
    try {
      summary = await runToEnd(ctx, 'rejected');
    } finally {
      ctx.fake.setFaults({});
    }
    const row = (await ledgerByKey(ctx, 'rejected')).get('RJ-001');
    console.log(`422 quoting the customer: run ${summary.status}, row ${row?.status}, error_class ${row?.errorClass}, error_message: ${row?.errorMessage}`);
    expect(summary).toMatchObject({ status: 'succeeded', sent: 0, rejected: 1 });
    expect(row?.status).toBe('rejected');
    expect(row?.errorMessage).toContain('422');
    const stored = `${row?.errorClass ?? ''}\n${row?.errorMessage ?? ''}`;
    expect(leaksIn(stored, [name, email, 'Renée', 'Ørsted', 'Løkke', 'renee.orsted', 'renee', 'orsted'])).toEqual([]);
    expect(stored).not.toMatch(/@/);
  });

  it('a rate limit changed by configuration takes effect at once: a minute-ahead slot does not hold back the next run', async () => {
    await table('pace_orders', rows('PC', 1));
    await saveServiceActivation(ctx, 'pace', { kind: 'table', schema: 'shop', name: 'pace_orders' }, {
      destination: { rateLimit: { calls: 1, perSeconds: 60 }, credentials: PACE_CREDENTIALS },
    });
    const slow = await runToEnd(ctx, 'pace');
    expect(slow).toMatchObject({ status: 'succeeded', sent: 1 });
    const slot = await sql<{ ahead_ms: number }>`
      select (extract(epoch from max(next_slot_at) - clock_timestamp()) * 1000)::float8 as ahead_ms from app.rate_limits`.execute(ctx.db);
    const aheadMs = Number(slot.rows[0]?.ahead_ms ?? 0);

    await saveDestination(ctx.db, serviceDestination('pace', { credentials: PACE_CREDENTIALS, ...FAST_PACING }));
    await ctx.warehouseAdmin.insertInto('shop.pace_orders').values(rows('PC', 21).slice(1)).execute();
    for (const row of rows('PC', 21)) {
      personal.add(String(row.customer_name));
      personal.add(String(row.customer_email));
    }
    const started = Date.now();
    const fast = await runToEnd(ctx, 'pace');
    const elapsed = Date.now() - started;
    console.log(`rate limit 1/60s -> 100000/1s: slot ${seconds(aheadMs)} ahead after the slow run; the next run sent ${fast.sent} in ${seconds(elapsed)}`);
    expect(aheadMs).toBeGreaterThan(50_000);
    expect(fast).toMatchObject({ status: 'succeeded', newRows: 20, sent: 20 });
    expect(elapsed).toBeLessThan(10_000);
  });

  it('a rate limit raised while a run goes reaches that run within not after the slots it had queued', async () => {
    await table('live_pace_orders', rows('LP', 6));
    const slow = { rateLimit: { calls: 2, perSeconds: 60 }, credentials: LIVE_CREDENTIALS };
    await saveServiceActivation(ctx, 'live-pace', { kind: 'table', schema: 'shop', name: 'live_pace_orders' }, { destination: slow });
    const started = Date.now();
    const run = await ctx.client.start('live-pace');
    // At 2 calls a minute the six rows would take 2.5 minutes; the first call leaves at once.
    await waitFor('the first call of the slow run', () => Promise.resolve(acceptedReferences(ctx, 'LP').length >= 1 ? true : undefined), 60_000, 100);
    await saveDestination(ctx.db, serviceDestination('live-pace', { credentials: LIVE_CREDENTIALS, ...FAST_PACING }));
    const raisedAt = Date.now();
    const summary = await waitToEnd(ctx, run.workflowId);
    const afterRaise = Date.now() - raisedAt;
    console.log(`rate limit 2/60s raised mid-run: ${summary.status}, sent ${summary.sent}; ${seconds(afterRaise)} after the change (${seconds(Date.now() - started)} in all)`);
    expect(summary).toMatchObject({ status: 'succeeded', sent: 6 });
    // The old pace would need another two minutes for the five rows left.
    expect(afterRaise).toBeLessThan(60_000);
  });

  it('the debug-level worker log holds no email or name of the test data, nor does any history', async () => {
    const output = worker.output();
    const lines = output.split('\n').filter(Boolean);
    const debugLines = lines.filter((line) => line.includes('"level":20')).length;
    const messages = new Map<string, number>();
    for (const line of lines) {
      const msg = /"msg":"([^"]{0,60})/.exec(line)?.[1] ?? line.slice(0, 40);
      messages.set(msg, (messages.get(msg) ?? 0) + 1);
    }
    console.log(`debug log, messages: ${JSON.stringify([...messages].sort((a, b) => b[1] - a[1]).slice(0, 25))}`);
    const leaks = leaksIn(output, personal);
    const executions: { workflowId: string; runId: string }[] = [];
    for await (const execution of ctx.temporal.workflow.list({ query: `TaskQueue = '${ctx.taskQueue}'` })) executions.push({ workflowId: execution.workflowId, runId: execution.runId });
    const historyLeaks: string[] = [];
    for (const { workflowId, runId } of executions) {
      const text = historyText(await ctx.temporal.workflow.getHandle(workflowId, runId).fetchHistory());
      for (const value of leaksIn(text, personal)) historyLeaks.push(`${workflowId}: ${value}`);
    }
    console.log(
      `debug log: ${lines.length} lines (${debugLines} at debug level, ${output.length} chars), ${personal.size} personal values searched, ${leaks.length} found; ` +
        `${executions.length} executions' histories, ${historyLeaks.length} found`,
    );
    expect(personal.size).toBeGreaterThan(600);
    expect(lines.length).toBeGreaterThan(10);
    expect(leaks).toEqual([]);
    expect(historyLeaks).toEqual([]);
  });

  it('a wrong warehouse password fails the run at once, naming WAREHOUSE_DATABASE_URL and 28P01; the next run (right password) is not skipped', async () => {
    // This run needs a worker whose warehouse has a wrong password: the debug worker leaves the task queue.
    await worker.kill();
    const wrong = new URL(ctx.readerUrl);
    wrong.password = 'wrong-password-q9';
    const bad = await ctx.startWorker({ warehouses: postgresWarehouse(wrong.toString()) });
    await table('password_orders', rows('PW', 5));
    await saveServiceActivation(ctx, 'password', { kind: 'table', schema: 'shop', name: 'password_orders' }, { destination: FAST_PACING });

    const started = Date.now();
    const { workflowId } = await ctx.client.start('password');
    const summary = await waitToEnd(ctx, workflowId);
    const elapsed = Date.now() - started;
    const description = await ctx.temporal.workflow.getHandle(workflowId).describe();
    console.log(`wrong warehouse password: ${summary.status}/${summary.failureKind}, workflow ${description.status.name} after ${seconds(elapsed)}: ${summary.error}`);
    expect(summary).toMatchObject({ status: 'failed', failureKind: 'misconfigured', sent: 0 });
    expect(summary.error).toContain('WAREHOUSE_DATABASE_URL');
    expect(summary.error).toContain('28P01');
    expect(summary.error).not.toContain('wrong-password-q9');
    expect(description.status.name).toBe('FAILED');
    expect(elapsed).toBeLessThan(30_000);

    bad.shutdown();
    const deadline = Date.now() + 30_000;
    while (bad.getState() !== 'STOPPED' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(bad.getState()).toBe('STOPPED');
    await ctx.startWorker();
    const next = await runToEnd(ctx, 'password');
    console.log(`wrong warehouse password, next run with the right one: ${next.status}, sent ${next.sent}`);
    expect(next).toMatchObject({ status: 'succeeded', sent: 5 });
  });
});
