import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveActivation, saveDestination } from '../../src/db/config-store.ts';
import type { ActivationConfigInput, DestinationConfigInput } from '../../src/domain/index.ts';
import { FAKE_DEFAULTS } from '../../src/fake-trustpilot/server.ts';
import { deleteSchedule } from '../../src/temporal/schedules.ts';
import {
  FAST_PACING,
  ORDER_MAPPING,
  acceptedReferences,
  createOrdersTable,
  createTestContext,
  historyText,
  ledgerByKey,
  orderActivation,
  segmentRow,
  serviceDestination,
  waitFor,
  type TestContext,
  runToEnd,
  waitToEnd,
} from './harness.ts';

const DESTINATION = 'run-control';
/** Every source table of this file: the history check below looks for each of their names and emails. */
const TABLES = ['overlap_orders', 'wrong_user_orders', 'unknown_unit_orders', 'personal_orders'];
const CATALOGUE = Array.from({ length: 7 }, (_, index) => `SKU-${index}`);

function activityTypes(events: { activityTaskScheduledEventAttributes?: { activityType?: { name?: string | null } | null } | null }[]): string[] {
  return events.flatMap((event) => event.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
}

describe('who runs, and when a run stops', () => {
  let ctx: TestContext;

  beforeAll(async () => {
    ctx = await createTestContext('run-control', { rateLimit: null, productCatalogue: CATALOGUE });
    await ctx.startWorker();
    await sql`create schema if not exists shop`.execute(ctx.db);
    await saveDestination(ctx.db, destination(DESTINATION));
  });
  afterAll(async () => {
    await deleteSchedule(ctx.temporal, 'overlap');
    await ctx.close();
  });

  function destination(id: string, extra: Partial<DestinationConfigInput> = {}): Record<string, unknown> {
    return serviceDestination(id, { ...FAST_PACING, ...extra });
  }

  async function activate(id: string, tableName: string, extra: Partial<ActivationConfigInput> = {}): Promise<void> {
    await saveActivation(ctx.db, orderActivation(id, DESTINATION, { kind: 'table', schema: 'shop', name: tableName }, { mapping: { ...ORDER_MAPPING, locale: 'locale' }, ...extra }));
  }

  const rows = (prefix: string, count: number) => Array.from({ length: count }, (_, index) => segmentRow(prefix, index + 1));

  it('lets exactly one of several overlapping starts run; the others are skipped', async () => {
    await createOrdersTable(ctx, 'overlap_orders', rows('OV', 30));
    // Two invitations in flight at 300 ms each: the run lasts seconds, long after all three starts.
    await activate('overlap', 'overlap_orders', { concurrency: 2 });
    await ctx.client.ensureSchedule('overlap');

    let maxRunning = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const { count } = await ctx.db
          .selectFrom('app.runs')
          .select((eb) => eb.fn.countAll<string>().as('count'))
          .where('activation_id', '=', 'overlap')
          .where('status', '=', 'running')
          .executeTakeFirstOrThrow();
        maxRunning = Math.max(maxRunning, Number(count));
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();

    ctx.fake.setFaults({ latencyMs: 300 });
    let runs;
    try {
      const [first, second] = await Promise.all([
        ctx.client.start('overlap'),
        ctx.client.start('overlap'),
        ctx.client.trigger('overlap'),
      ]);
      expect(first.workflowId).not.toBe(second.workflowId);
      await Promise.all([waitToEnd(ctx, first.workflowId), waitToEnd(ctx, second.workflowId)]);
      // The scheduled start's run, too.
      runs = await waitFor('every overlap run to finish', async () => {
        const all = await ctx.client.runs({ activationId: 'overlap' });
        return all.length >= 3 && all.every((run) => run.finishedAt !== null) ? all.reverse() : undefined;
      });
    } finally {
      sampling = false;
      ctx.fake.setFaults({});
      await sampler;
    }

    expect(runs.map((run) => run.status).sort()).toEqual(['skipped', 'skipped', 'succeeded']);
    const winner = runs.find((run) => run.status === 'succeeded');
    expect(winner).toMatchObject({ newRows: 30, sent: 30, failed: 0 });
    for (const run of runs.filter((candidate) => candidate.status === 'skipped')) {
      expect(run.error).toMatch(new RegExp(`run ${winner?.runId} .*still in progress`));
      expect(run.sent).toBe(0);
    }
    expect(maxRunning).toBeLessThanOrEqual(1);

    const workflows = await ctx.db.selectFrom('app.runs').select(['id', 'workflow_id', 'status']).where('activation_id', '=', 'overlap').execute();
    // One start came from the schedule (its workflow id has no '-manual-').
    expect(workflows.filter((run) => !run.workflow_id.includes('-manual-'))).toHaveLength(1);
    for (const run of workflows) {
      const history = await ctx.temporal.workflow.getHandle(run.workflow_id).fetchHistory();
      const types = activityTypes(history.events ?? []);
      if (run.status === 'skipped') expect(types.filter((type) => type !== 'startRun' && type !== 'runSummary')).toEqual([]);
      else expect(types.filter((type) => type === 'sendInvitation')).toHaveLength(30);
    }

    const accepted = acceptedReferences(ctx, 'OV');
    expect(accepted).toHaveLength(30);
    expect(new Set(accepted).size).toBe(30);
  });

  it('fails fast on a wrong business user id, keeps the rows unsent, and sends them once the configuration is fixed', async () => {
    await createOrdersTable(ctx, 'wrong_user_orders', rows('WU', 200));
    await saveDestination(
      ctx.db,
      destination('wrong-user', { credentials: { grant: 'client_credentials', businessUserIdEnv: 'RC_TRUSTPILOT_BUSINESS_USER_ID' } }),
    );
    // A value Trustpilot does not know as a business user of this application: 403 with errorCode 1014.
    ctx.workerEnv.RC_TRUSTPILOT_BUSINESS_USER_ID = 'not-a-business-user';
    await activate('wrong-user', 'wrong_user_orders', { destinationId: 'wrong-user' });

    const requestsBefore = ctx.fake.stats().requests;
    const failed = await runToEnd(ctx, 'wrong-user');
    const requests = ctx.fake.stats().requests - requestsBefore;
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/1014/);
    expect(failed.error).toMatch(/business USER id/);
    expect(failed).toMatchObject({ sourceRows: 200, newRows: 200, sent: 0, failed: 200 });
    // Stopped after the calls already in flight (concurrency 8), not after 200 rows or their retries.
    expect(requests).toBeLessThanOrEqual(12);
    const ledger = await ledgerByKey(ctx, 'wrong-user');
    expect(ledger.size).toBe(200);
    expect([...ledger.values()].filter((entry) => entry.status !== 'failed' && entry.status !== 'pending')).toEqual([]);
    expect(acceptedReferences(ctx, 'WU')).toEqual([]);
    const description = await ctx.temporal.workflow.getHandle(await runWorkflowId(failed.runId)).describe();
    expect(description.status.name).toBe('FAILED');

    ctx.workerEnv.RC_TRUSTPILOT_BUSINESS_USER_ID = FAKE_DEFAULTS.businessUserId;
    const fixed = await runToEnd(ctx, 'wrong-user');
    expect(fixed).toMatchObject({ status: 'succeeded', retriedRows: 200, newRows: 0, sent: 200, failed: 0 });
    const accepted = acceptedReferences(ctx, 'WU');
    expect(accepted).toHaveLength(200);
    expect(new Set(accepted).size).toBe(200);
  });

  it('fails fast, with the reason, on a business unit Trustpilot does not know', async () => {
    await createOrdersTable(ctx, 'unknown_unit_orders', rows('UU', 20));
    await saveDestination(ctx.db, destination('unknown-unit', { businessUnitId: 'no-such-business-unit' }));
    await activate('unknown-unit', 'unknown_unit_orders', { destinationId: 'unknown-unit' });

    const requestsBefore = ctx.fake.stats().requests;
    const summary = await runToEnd(ctx, 'unknown-unit');
    expect(ctx.fake.stats().requests - requestsBefore).toBeLessThanOrEqual(12);
    expect(summary).toMatchObject({ status: 'failed', sent: 0, failed: 20 });
    expect(summary.error).toMatch(/403/);
    expect(summary.error).toMatch(/1010/);
    expect(summary.error).toMatch(/business unit/);
    expect(acceptedReferences(ctx, 'UU')).toEqual([]);
  });

  it('fails fast, naming it, on a source table that does not exist', async () => {
    await activate('missing-table', 'no_such_table');
    const summary = await runToEnd(ctx, 'missing-table');
    expect(summary).toMatchObject({ status: 'failed', sourceRows: 0, newRows: 0, sent: 0 });
    expect(summary.error).toMatch(/no_such_table/);
    expect(summary.error).toMatch(/42P01/);
    expect((await ledgerByKey(ctx, 'missing-table')).size).toBe(0);

    // No retries: the one claim failed on its first attempt, and the workflow failed for good.
    const workflowId = await runWorkflowId(summary.runId);
    const handle = ctx.temporal.workflow.getHandle(workflowId);
    expect((await handle.describe()).status.name).toBe('FAILED');
    const events = (await handle.fetchHistory()).events ?? [];
    const claims = events.filter((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'detectNewRows');
    expect(claims).toHaveLength(1);
    const attempts = events
      .filter((event) => String(event.activityTaskStartedEventAttributes?.scheduledEventId) === String(claims[0]?.eventId))
      .map((event) => event.activityTaskStartedEventAttributes?.attempt);
    expect(attempts).toEqual([1]);
    expect(events.filter((event) => event.activityTaskFailedEventAttributes)).toHaveLength(1);
  });

  it('keeps every email and name of the test data out of the history of every workflow execution', async () => {
    // Sent rows, a row rejected locally (malformed email), one rejected by Trustpilot (unknown SKU), transient 429s.
    const personal = rows('PD', 10);
    personal[3] = { ...personal[3], customer_email: 'pd.broken-address.example.com' };
    personal[6] = { ...personal[6], sku: 'SKU-NOT-IN-CATALOGUE' };
    await createOrdersTable(ctx, 'personal_orders', personal);
    await activate('personal-data', 'personal_orders', {
      target: { invitationType: 'both' },
      products: { mode: 'per_row' },
      mapping: {
        consumerName: 'customer_name',
        consumerEmail: 'customer_email',
        referenceNumber: 'order_id',
        locale: 'locale',
        productSkus: 'sku',
      },
    });
    ctx.fake.setFaults({ errorRates: { 429: 0.3 }, retryAfterSeconds: 1 });
    let summary;
    try {
      summary = await runToEnd(ctx, 'personal-data');
    } finally {
      ctx.fake.setFaults({});
    }
    expect(summary).toMatchObject({ status: 'succeeded', newRows: 10, sent: 8, rejected: 2, failed: 0 });
    const ledger = await ledgerByKey(ctx, 'personal-data');
    expect(ledger.get('PD-004')).toMatchObject({ status: 'rejected', errorClass: 'invalid_row' });
    expect(ledger.get('PD-007')).toMatchObject({ status: 'rejected', errorClass: 'rejected_by_trustpilot' });

    // Every execution of every workflow this file started (manual, scheduled, continued as new).
    const runWorkflowIds = new Set((await ctx.db.selectFrom('app.runs').select('workflow_id').execute()).map((run) => run.workflow_id));
    const executions = await waitFor('every workflow of the file to be listed, closed', async () => {
      const listed: { workflowId: string; runId: string }[] = [];
      let open = false;
      for await (const execution of ctx.temporal.workflow.list({ query: `TaskQueue = '${ctx.taskQueue}'` })) {
        listed.push({ workflowId: execution.workflowId, runId: execution.runId });
        if (execution.status.name === 'RUNNING') open = true;
      }
      const ids = new Set(listed.map((execution) => execution.workflowId));
      return !open && [...runWorkflowIds].every((id) => ids.has(id)) ? listed : undefined;
    });
    // The 200-row run continued as new at least once.
    expect(executions.length).toBeGreaterThan(runWorkflowIds.size);

    const personalValues = new Set<string>();
    for (const name of TABLES) {
      const result = await sql<{ customer_name: string; customer_email: string }>`
        select customer_name, customer_email from ${sql.table(`shop.${name}`)}`.execute(ctx.db);
      for (const row of result.rows) personalValues.add(row.customer_name).add(row.customer_email);
    }
    expect(personalValues.size).toBe(2 * (30 + 200 + 20 + 10));

    let failureMessages = 0;
    let decodedPayloads = 0;
    const leaks: string[] = [];
    for (const { workflowId, runId } of executions) {
      const history = await ctx.temporal.workflow.getHandle(workflowId, runId).fetchHistory();
      const text = historyText(history);
      expect(text).toContain('activationRun');
      if (text.includes('errorCode 1014')) failureMessages++;
      if (text.includes('entryId')) decodedPayloads++;
      const found = [...(text.match(/[\w.+-]+@shop\.example\.com/g) ?? []), ...[...personalValues].filter((value) => text.includes(value))];
      for (const value of new Set(found)) leaks.push(`${workflowId} (${runId}): ${value}`);
    }
    expect(leaks).toEqual([]);
    // The text holds decoded activity inputs and failure reasons: the search above looks where a leak would be.
    expect(decodedPayloads).toBeGreaterThan(0);
    expect(failureMessages).toBeGreaterThan(0);
  });

  async function runWorkflowId(runId: number): Promise<string> {
    const run = await ctx.db.selectFrom('app.runs').select('workflow_id').where('id', '=', runId).executeTakeFirstOrThrow();
    return run.workflow_id;
  }
});
