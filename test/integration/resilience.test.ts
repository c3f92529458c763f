import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScratchPostgres, type ScratchPostgres } from '../../src/dev/embedded-postgres.ts';
import type { FakeTrustpilotOptions } from '../../src/fake-trustpilot/server.ts';
import type { RunSummary } from '../../src/run/types.ts';
import { seconds } from '../fixtures.ts';
import { createTestContext, runToEnd, saveServiceActivation, waitFor, waitToEnd, type TestContext } from './harness.ts';
import { killAllWorkers, spawnWorker, workerEnvFor, type WorkerProcess } from './processes.ts';

// Segment sizes; CI keeps them small enough for the file to finish in a few minutes.
const KILL_ROWS = Number(process.env.RESILIENCE_KILL_ROWS ?? 400);
const POSTGRES_ROWS = Number(process.env.RESILIENCE_POSTGRES_ROWS ?? 300);
const SIGTERM_ROWS = Number(process.env.RESILIENCE_SIGTERM_ROWS ?? 300);
/** share of the rows the fake must have accepted before the trouble starts */
const TROUBLE_AT = 0.3;

// No 429s from the fake; a little latency per call, so that a run lasts long enough to be interrupted.
const FAKE_OPTIONS: FakeTrustpilotOptions = { rateLimit: null, faults: { latencyMs: 20 } };

/** A segment of `rows` orders and an activation sending them, paced well above what the run reaches. */
async function seedActivation(ctx: TestContext, id: string, rows: number): Promise<void> {
  await sql`create schema if not exists shop`.execute(ctx.db);
  await sql`
    create table ${sql.table(`shop.${id.replace(/-/g, '_')}`)} as
    select 'R-' || lpad(n::text, 6, '0') as order_id, 'Customer ' || n as customer_name,
           'resilience' || n || '@shop.example.com' as customer_email
    from generate_series(1, ${rows}) as n
  `.execute(ctx.db);
  await sql`alter table ${sql.table(`shop.${id.replace(/-/g, '_')}`)} add primary key (order_id)`.execute(ctx.db);
  await saveServiceActivation(ctx, id, { kind: 'table', schema: 'shop', name: id.replace(/-/g, '_') }, {
    destination: { rateLimit: { calls: 1000, perSeconds: 1 } },
    activation: { concurrency: 16 },
  });
}

/** Samples how many invitations the fake has accepted, every `everyMs`, for a timeline in the test's output. */
function sampleProgress(ctx: TestContext, everyMs = 2_000): { stop(): string } {
  const started = Date.now();
  const samples: string[] = [];
  const timer = setInterval(() => samples.push(`${seconds(Date.now() - started)}:${ctx.fake.accepted().length}`), everyMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      return samples.join(' ');
    },
  };
}

/**
 * Waits for the run's result; if it does not come, fails with what would explain why: the
 * workflow's pending activities and their last failures, the ledger, and the worker's last output.
 */
async function waitForRunOrExplain(ctx: TestContext, workflowId: string, worker: WorkerProcess, timeoutMs = 150_000): Promise<RunSummary> {
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    waitToEnd(ctx, workflowId),
    new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs))),
    // The worker must outlive the trouble: if it dies, say so at once, with its last words.
    worker.exited.then((exit) => {
      throw new Error(`the worker process exited (${JSON.stringify(exit)}) before the run finished:\n${worker.output().slice(-6_000)}`);
    }),
  ]).finally(() => clearTimeout(timer));
  if (outcome !== undefined) return outcome;
  const description = await ctx.temporal.workflow.getHandle(workflowId).describe();
  const pending = description.raw.pendingActivities?.map((activity) => ({
    type: activity.activityType?.name,
    state: activity.state,
    attempt: activity.attempt,
    lastFailure: activity.lastFailure?.message,
  }));
  const ledger = await ctx.db
    .selectFrom('app.ledger')
    .select((eb) => ['status', eb.fn.countAll<number>().as('count')])
    .groupBy('status')
    .execute()
    .catch((error: unknown) => String(error));
  throw new Error(
    `run ${workflowId} not finished after ${timeoutMs} ms; status ${description.status.name}; ` +
      `pending activities ${JSON.stringify(pending)}; ledger ${JSON.stringify(ledger)}; worker output:\n${worker.output().slice(-6_000)}`,
  );
}

function receivedKeys(ctx: TestContext): Set<string> {
  return new Set(ctx.fake.accepted().map((invitation) => invitation.body.referenceNumber ?? ''));
}

async function waitForAccepted(ctx: TestContext, count: number, worker: WorkerProcess): Promise<number> {
  return await waitFor(
    `${count} invitations at the fake`,
    () => {
      if (worker.hasExited()) throw new Error(`the worker exited before the run got going:\n${worker.output()}`);
      const accepted = ctx.fake.accepted().length;
      return Promise.resolve(accepted >= count ? accepted : undefined);
    },
    120_000,
    50,
  );
}

/**
 * The guarantees after any interruption: the run succeeded, every row reached Trustpilot, a row
 * reached it twice only if the ledger marks it in doubt, and the ledger and the run counts agree.
 */
async function expectEverythingSentOnce(
  label: string,
  ctx: TestContext,
  activationId: string,
  rows: number,
  summaries: RunSummary[],
): Promise<{ duplicates: number; inDoubt: number }> {
  const accepted = ctx.fake.accepted();
  const duplicates = ctx.fake.duplicates();
  const ledger = await ctx.db
    .selectFrom('app.ledger')
    .select(['row_key', 'status', 'in_doubt', 'attempts', 'last_run_id'])
    .where('activation_id', '=', activationId)
    .execute();
  const inDoubt = ledger.filter((row) => row.in_doubt);
  const byStatus: Record<string, number> = {};
  for (const row of ledger) byStatus[row.status] = (byStatus[row.status] ?? 0) + 1;
  console.log(
    `${label}: runs ${summaries.length} (${summaries.map((summary) => `${summary.status} sent ${summary.sent} failed ${summary.failed} inDoubt ${summary.inDoubt}`).join('; ')}), ` +
      `fake received ${accepted.length} for ${rows} rows, duplicates ${duplicates.length} ` +
      `(${duplicates.map((duplicate) => `${duplicate.referenceNumber}×${duplicate.count}`).join(', ') || 'none'}), ` +
      `rows in doubt ${inDoubt.length}, ledger ${JSON.stringify(byStatus)}, calls with >1 attempt ${ledger.filter((row) => row.attempts > 1).length}`,
  );

  expect(summaries.at(-1)?.status).toBe('succeeded');
  expect(summaries.reduce((total, summary) => total + summary.sent, 0)).toBe(rows);
  expect(receivedKeys(ctx).size).toBe(rows);
  const inDoubtKeys = new Set(inDoubt.map((row) => row.row_key));
  for (const duplicate of duplicates) expect(inDoubtKeys.has(duplicate.referenceNumber), `duplicate ${duplicate.referenceNumber} is in doubt`).toBe(true);
  expect(accepted.length - rows).toBe(duplicates.reduce((total, duplicate) => total + duplicate.count - 1, 0));
  expect(ledger).toHaveLength(rows);
  expect(byStatus).toEqual({ sent: rows });
  // The last run reports the rows it settled that were in doubt.
  const last = summaries.at(-1);
  expect(last?.inDoubt).toBe(inDoubt.filter((row) => row.last_run_id === last?.runId).length);
  return { duplicates: duplicates.length, inDoubt: inDoubt.length };
}

/** Starts a worker process and a run on it, and returns once about TROUBLE_AT of the rows were accepted. */
async function runUntilTrouble(ctx: TestContext, activationId: string, rows: number) {
  const env = workerEnvFor(ctx);
  const worker = spawnWorker('first', env);
  await worker.ready();
  const started = Date.now();
  const progress = sampleProgress(ctx);
  const handle = await ctx.client.start(activationId);
  const acceptedAtTrouble = await waitForAccepted(ctx, Math.ceil(rows * TROUBLE_AT), worker);
  return { env, worker, started, progress, handle, acceptedAtTrouble };
}

/** A test context of its own with an activation over `rows` rows; its worker processes die with it. */
function seededContext(name: string, activationId: string, rows: number): () => TestContext {
  let ctx: TestContext | undefined;
  beforeAll(async () => {
    ctx = await createTestContext(name, FAKE_OPTIONS);
    await seedActivation(ctx, activationId, rows);
  });
  afterAll(async () => {
    await killAllWorkers();
    await ctx?.close();
  });
  return () => ctx as TestContext;
}

describe('a worker process killed with SIGKILL mid-run', () => {
  const activationId = 'kill-worker';
  const context = seededContext('kill', activationId, KILL_ROWS);

  it(`resumes the run in a new worker process: ${KILL_ROWS} rows, each sent, duplicates only where in doubt`, async () => {
    const ctx = context();
    const { env, worker: first, started, progress, handle, acceptedAtTrouble: acceptedAtKill } = await runUntilTrouble(ctx, activationId, KILL_ROWS);
    // Slow answers, so that the kill lands while calls are in flight: Trustpilot (the fake) takes
    // those invitations, but their answers never reach the dead worker. Long enough that calls
    // seen in flight are still in flight when the kill lands, however slow the machine.
    ctx.fake.setFaults({ latencyMs: 5_000 });
    const sendingBeforeKill = await waitFor(
      'calls in flight',
      async () => {
        const { count } = await ctx.db
          .selectFrom('app.ledger')
          .select((eb) => eb.fn.countAll<number>().as('count'))
          .where('activation_id', '=', activationId)
          .where('status', '=', 'sending')
          .executeTakeFirstOrThrow();
        return Number(count) >= 8 ? Number(count) : undefined;
      },
      30_000,
      20,
    );
    first.signal('SIGKILL');
    const exit = await first.exited;
    const killedAt = Date.now();
    expect(exit.signal).toBe('SIGKILL');
    ctx.fake.setFaults({ latencyMs: 20 });
    const sendingAtKill = await ctx.db
      .selectFrom('app.ledger')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('activation_id', '=', activationId)
      .where('status', '=', 'sending')
      .executeTakeFirstOrThrow();
    // The kill really came mid-run, with calls in flight: the one window for a duplicate was open.
    // (How many were in flight is the machine's business: calls may finish between the look and the kill.)
    expect(acceptedAtKill).toBeLessThan(KILL_ROWS);
    expect(Number(sendingAtKill.count)).toBeGreaterThan(0);

    const second = spawnWorker('second', env);
    await second.ready();
    const secondReadyAt = Date.now();
    const summary = await waitForRunOrExplain(ctx, handle.workflowId, second).finally(() => console.log(`SIGKILL: accepted over time ${progress.stop()}`));
    console.log(
      `SIGKILL: ${KILL_ROWS} rows; killed after ${seconds(killedAt - started)} with ${acceptedAtKill} accepted and ${sendingAtKill.count} rows 'sending' (${sendingBeforeKill} seen just before); ` +
        `new worker ready ${seconds(secondReadyAt - killedAt)} after the kill; finished ${seconds(Date.now() - killedAt)} after the kill (${seconds(Date.now() - started)} in all)`,
    );

    expect(second.hasExited()).toBe(false);
    const runs = await ctx.client.runs({ activationId: activationId });
    expect(runs).toHaveLength(1);
    expect(runs[0]?.runId).toBe(summary.runId);
    const { inDoubt } = await expectEverythingSentOnce('SIGKILL', ctx, activationId, KILL_ROWS, [summary]);
    // Every row left 'sending' by the kill was sent again and is flagged in doubt.
    expect(inDoubt).toBeGreaterThanOrEqual(Number(sendingAtKill.count));
  });
});

describe('the app database restarting mid-run', () => {
  const activationId = 'postgres-restart';
  let ctx: TestContext | undefined;
  let postgres: ScratchPostgres | undefined;

  beforeAll(async () => {
    // A Postgres of its own: the run's shared one serves the other test files meanwhile.
    postgres = await startScratchPostgres();
    ctx = await createTestContext('pgrestart', FAKE_OPTIONS, { postgresAdminUrl: postgres.adminUrl });
    await seedActivation(ctx, activationId, POSTGRES_ROWS);
  });
  afterAll(async () => {
    try {
      await killAllWorkers();
      await ctx?.close();
    } finally {
      await postgres?.dispose();
    }
  });

  it(`finishes the run once Postgres is back: ${POSTGRES_ROWS} rows, each sent, duplicates only where in doubt`, async () => {
    const context = ctx as TestContext;
    const { worker, started, progress, handle, acceptedAtTrouble: acceptedAtStop } = await runUntilTrouble(context, activationId, POSTGRES_ROWS);
    const server = postgres as ScratchPostgres;
    await server.stop();
    const stoppedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    await server.start();
    const restartedAt = Date.now();
    const acceptedAtRestart = context.fake.accepted().length;
    expect(acceptedAtStop).toBeLessThan(POSTGRES_ROWS);

    const summaries = [await waitForRunOrExplain(context, handle.workflowId, worker).finally(() => console.log(`Postgres restart: accepted over time ${progress.stop()}`))];
    const firstDoneAt = Date.now();
    const failedRows = await context.db
      .selectFrom('app.ledger')
      .select(['error_class', 'error_message'])
      .where('activation_id', '=', activationId)
      .where('status', '!=', 'sent')
      .execute();
    console.log(
      `Postgres restart: ${POSTGRES_ROWS} rows; stopped after ${seconds(stoppedAt - started)} with ${acceptedAtStop} accepted, ` +
        `down ${seconds(restartedAt - stoppedAt)} (${acceptedAtRestart - acceptedAtStop} accepted meanwhile); run finished ${seconds(firstDoneAt - restartedAt)} after the restart ` +
        `(${seconds(firstDoneAt - started)} in all); rows not sent by the first run: ${failedRows.length}` +
        (failedRows.length > 0 ? ` (${[...new Set(failedRows.map((row) => `${row.error_class}: ${row.error_message}`))].slice(0, 5).join(' | ')})` : ''),
    );
    // Rows the outage left failed are the next run's to send (at most one more run).
    if ((summaries[0]?.failed ?? 0) > 0) summaries.push(await runToEnd(context, activationId));

    expect(worker.hasExited()).toBe(false);
    await expectEverythingSentOnce('Postgres restart', context, activationId, POSTGRES_ROWS, summaries);
  });
});

describe('a worker process stopped with SIGTERM mid-run', () => {
  const activationId = 'stop-worker';
  const context = seededContext('sigterm', activationId, SIGTERM_ROWS);

  it(`shuts down cleanly, leaving nothing in doubt, and a new worker finishes the run: ${SIGTERM_ROWS} rows, each sent once`, async () => {
    const ctx = context();
    const { env, worker: first, started, progress, handle, acceptedAtTrouble: acceptedAtStop } = await runUntilTrouble(ctx, activationId, SIGTERM_ROWS);
    first.signal('SIGTERM');
    const signalledAt = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const exit = await Promise.race([
      first.exited,
      new Promise<'still running'>((resolve) => (timer = setTimeout(() => resolve('still running'), 60_000))),
    ]).finally(() => clearTimeout(timer));
    const exitedAt = Date.now();
    // A graceful stop ends the process by itself, successfully.
    expect(exit, first.output().slice(-4_000)).toEqual({ code: 0, signal: null });
    expect(acceptedAtStop).toBeLessThan(SIGTERM_ROWS);

    const second = spawnWorker('second', env);
    await second.ready();
    const secondReadyAt = Date.now();
    const summary = await waitForRunOrExplain(ctx, handle.workflowId, second).finally(() => console.log(`SIGTERM: accepted over time ${progress.stop()}`));
    console.log(
      `SIGTERM: ${SIGTERM_ROWS} rows; signalled after ${seconds(signalledAt - started)} with ${acceptedAtStop} accepted; ` +
        `exited ${seconds(exitedAt - signalledAt)} later; new worker ready ${seconds(secondReadyAt - exitedAt)} after that; ` +
        `finished ${seconds(Date.now() - exitedAt)} after the exit (${seconds(Date.now() - started)} in all)`,
    );

    const runs = await ctx.client.runs({ activationId: activationId });
    expect(runs).toHaveLength(1);
    const figures = await expectEverythingSentOnce('SIGTERM', ctx, activationId, SIGTERM_ROWS, [summary]);
    // A graceful stop lets the calls in flight finish (src/worker.ts: shutdownGraceTimeMs), so it leaves nothing in doubt.
    expect(figures).toEqual({ duplicates: 0, inDoubt: 0 });
  });
});
