import { randomBytes } from 'node:crypto';
import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { sql } from 'kysely';
import { NotFoundError, listActivations, loadActivation } from '../db/config-store.ts';
import type { AppDb } from '../db/database.ts';
import { readDeployment } from '../db/deployment.ts';
import { listRunSummaries, toRunSummary } from '../db/runs.ts';
import type { LedgerStatus } from '../db/schema.ts';
import { PublicError } from '../domain/public-error.ts';
import { searchAttributes } from '../temporal/search-attributes.ts';
import { ensureSchedule, triggerSchedule, workflowIdPrefixFor } from '../temporal/schedules.ts';
import type { activationRun } from '../workflows/index.ts';
import { PROGRESS_QUERY, type FailureKind, type RunProgress, type RunSummary } from '../run/types.ts';

export type { RunProgress, RunSummary };
export { isWorkflowOpen } from '../temporal/executions.ts';

export interface InvitationsClientOptions {
  temporal: Client;
  db: AppDb;
  taskQueue: string;
}

/** The activation does not exist (or was deleted). */
export class ActivationNotFoundError extends NotFoundError {}

/** A run ended without succeeding; `summary` says what it did, `kind` why it stopped. */
export class RunFailedError extends PublicError {
  override readonly name: string = 'RunFailedError';
  constructor(
    readonly summary: RunSummary,
    readonly kind: FailureKind,
  ) {
    super(`Run ${summary.runId} of ${summary.activationId} failed: ${summary.error ?? 'no reason recorded'}`);
  }
}

/** The run failed because the activation, its source or its credentials need fixing. */
export class RunMisconfiguredError extends RunFailedError {
  override readonly name = 'RunMisconfiguredError';
}

/** Another run of the activation was in progress, so this start did nothing. */
export class RunOverlapError extends PublicError {
  override readonly name = 'RunOverlapError';
  constructor(readonly summary: RunSummary) {
    super(`Run of ${summary.activationId} skipped: ${summary.error ?? 'another run is in progress'}`);
  }
}

export interface LedgerRow {
  id: number;
  rowKey: string;
  status: LedgerStatus;
  attempts: number;
  runsAttempted: number;
  inDoubt: boolean;
  errorClass: string | null;
  error: string | null;
  lastRunId: number;
  sentAt: string | null;
  updatedAt: string;
}

export interface LedgerFilter {
  status?: LedgerStatus;
  runId?: number;
  keys?: readonly string[];
  limit?: number;
}

function requeueStatement(db: AppDb, activationId: string, status: 'failed' | 'abandoned' | 'rejected', keys?: readonly string[]) {
  let query = db
    .updateTable('app.ledger')
    .set({
      status: status === 'rejected' ? 'new' : 'failed',
      runs_attempted: 0,
      error_class: null,
      error_message: status === 'rejected' ? null : sql<string>`error_message`,
      ...(status === 'rejected' ? { payload: null, fingerprint: null } : {}),
      updated_at: new Date(),
    })
    .where('activation_id', '=', activationId)
    .where('status', '=', status);
  // An abandoned row kept its payload; a rejected one is rebuilt from the segment.
  if (keys && keys.length > 0) query = query.where('row_key', 'in', [...keys]);
  return query;
}

/** A run started by a program: its ids, its live progress, its outcome. */
export class RunHandle {
  constructor(
    private readonly client: InvitationsClient,
    readonly workflow: WorkflowHandle<typeof activationRun>,
  ) {}

  get workflowId(): string {
    return this.workflow.workflowId;
  }

  /** Where the run is now (phase, counts, rate); answered by the workflow itself. */
  async progress(): Promise<RunProgress> {
    return await this.workflow.query<RunProgress>(PROGRESS_QUERY);
  }

  /**
   * Waits for the run and returns its summary. Throws RunOverlapError when it was skipped,
   * RunMisconfiguredError or RunFailedError when it failed (each carries the summary).
   */
  async result(): Promise<RunSummary> {
    return await this.client.waitForRun(this.workflow.workflowId);
  }
}

/** The typed way for programs to start runs, manage schedules and read run outcomes. */
export class InvitationsClient {
  constructor(private readonly options: InvitationsClientOptions) {}

  /** Starts a run now, outside the schedule. A run already in progress makes this one skip (see RunHandle.result). */
  async start(activationId: string): Promise<RunHandle> {
    let stored;
    try {
      stored = await loadActivation(this.options.db, activationId);
    } catch (error) {
      if (error instanceof NotFoundError) throw new ActivationNotFoundError(error.message);
      throw error;
    }
    const deployment = await readDeployment(this.options.db);
    const workflow = await this.options.temporal.workflow.start<typeof activationRun>('activationRun', {
      args: [{ activationId }],
      taskQueue: this.options.taskQueue,
      // The random part keeps two starts in the same millisecond distinct; the run lock decides which one runs.
      workflowId: `${workflowIdPrefixFor(activationId)}-manual-${new Date().toISOString()}-${randomBytes(3).toString('hex')}`,
      staticSummary: `${activationId}: manual run`,
      ...(deployment ? { memo: { deploymentId: deployment.deploymentId } } : {}),
      typedSearchAttributes: [
        { key: searchAttributes.activationId, value: activationId },
        { key: searchAttributes.destinationId, value: stored.destination.id },
      ],
    });
    return new RunHandle(this, workflow);
  }

  /** Starts a run and waits for its summary (see RunHandle.result for what it throws). */
  async run(activationId: string): Promise<RunSummary> {
    return await (await this.start(activationId)).result();
  }

  /** A handle on a run started earlier (by a program, the CLI or the schedule). */
  getRun(workflowId: string): RunHandle {
    return new RunHandle(this, this.options.temporal.workflow.getHandle<typeof activationRun>(workflowId));
  }

  async waitForRun(workflowId: string): Promise<RunSummary> {
    let summary: RunSummary;
    try {
      summary = await this.options.temporal.workflow.getHandle<typeof activationRun>(workflowId).result();
    } catch (error) {
      if (!(error instanceof WorkflowFailedError)) throw error;
      const run = await this.options.db
        .selectFrom('app.runs')
        .selectAll()
        .where('workflow_id', '=', workflowId)
        .orderBy('id', 'desc')
        .executeTakeFirst();
      if (!run) throw error;
      summary = toRunSummary(run);
    }
    if (summary.status === 'skipped') throw new RunOverlapError(summary);
    if (summary.status !== 'succeeded') {
      const kind = summary.failureKind ?? 'transient';
      throw kind === 'misconfigured' ? new RunMisconfiguredError(summary, kind) : new RunFailedError(summary, kind);
    }
    return summary;
  }

  async runs(filter: { activationId?: string; status?: RunSummary['status']; limit?: number } = {}): Promise<RunSummary[]> {
    return await listRunSummaries(this.options.db, { ...filter, limit: filter.limit ?? 20 });
  }

  /** Runs with their workflow ids, newest first. */
  async runWorkflowIds(activationId: string, limit = 20): Promise<Map<number, string>> {
    const rows = await this.options.db
      .selectFrom('app.runs')
      .select(['id', 'workflow_id'])
      .where('activation_id', '=', activationId)
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return new Map(rows.map((row) => [row.id, row.workflow_id]));
  }

  private ledgerQuery(activationId: string, filter: LedgerFilter) {
    let query = this.options.db.selectFrom('app.ledger').where('activation_id', '=', activationId);
    if (filter.status) query = query.where('status', '=', filter.status);
    if (filter.runId !== undefined) query = query.where('last_run_id', '=', filter.runId);
    if (filter.keys && filter.keys.length > 0) query = query.where('row_key', 'in', [...filter.keys]);
    return query;
  }

  /** How many ledger rows match the filter (its limit aside): what `ledgerRows` shows is a page of these. */
  async countLedgerRows(activationId: string, filter: Omit<LedgerFilter, 'limit'> = {}): Promise<number> {
    const row = await this.ledgerQuery(activationId, filter)
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  /** The ledger as an operator reads it: source keys, statuses and reasons (no personal data). */
  async ledgerRows(activationId: string, filter: LedgerFilter = {}): Promise<LedgerRow[]> {
    const rows = await this.ledgerQuery(activationId, filter)
      .select(['id', 'row_key', 'status', 'attempts', 'runs_attempted', 'in_doubt', 'error_class', 'error_message', 'last_run_id', 'sent_at', 'updated_at'])
      .orderBy('updated_at', 'desc')
      .orderBy('id', 'desc')
      .limit(filter.limit ?? 50)
      .execute();
    return rows.map((row) => ({
      id: row.id,
      rowKey: row.row_key,
      status: row.status,
      attempts: row.attempts,
      runsAttempted: row.runs_attempted,
      inDoubt: row.in_doubt,
      errorClass: row.error_class,
      error: row.error_message,
      lastRunId: row.last_run_id,
      sentAt: row.sent_at?.toISOString() ?? null,
      updatedAt: row.updated_at.toISOString(),
    }));
  }

  /**
   * Puts failed, abandoned or rejected rows back in line for the next run. Failed and abandoned
   * rows are sent again as they are (their allowance of runs restarts); rejected rows are read from
   * the segment again and rebuilt. Never touches a sent row. Returns how many rows were requeued.
   */
  async requeue(activationId: string, options: { status: 'failed' | 'abandoned' | 'rejected'; keys?: readonly string[] }): Promise<number> {
    await loadActivation(this.options.db, activationId);
    const result = await requeueStatement(this.options.db, activationId, options.status, options.keys).executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /**
   * `requeue` of exactly these keys, all or nothing: when any key matches no row of that status
   * (a typo, a row in another status), nothing is requeued and `unmatched` gives the positions
   * (1-based, in the order given) of those keys, rather than the keys, which can be emails.
   */
  async requeueKeys(activationId: string, options: { status: 'failed' | 'abandoned' | 'rejected'; keys: readonly string[] }): Promise<{ requeued: number; unmatched: number[] }> {
    await loadActivation(this.options.db, activationId);
    if (options.keys.length === 0) return { requeued: 0, unmatched: [] };
    return await this.options.db.transaction().execute(async (trx) => {
      const found = await trx
        .selectFrom('app.ledger')
        .select('row_key')
        .where('activation_id', '=', activationId)
        .where('status', '=', options.status)
        .where('row_key', 'in', [...new Set(options.keys)])
        .forUpdate()
        .execute();
      const matched = new Set(found.map((row) => row.row_key));
      const unmatched = options.keys.flatMap((key, index) => (matched.has(key) ? [] : [index + 1]));
      if (unmatched.length > 0) return { requeued: 0, unmatched };
      const result = await requeueStatement(trx, activationId, options.status, [...matched]).executeTakeFirst();
      return { requeued: Number(result.numUpdatedRows), unmatched: [] };
    });
  }

  async ensureSchedule(activationId: string): Promise<'created' | 'updated'> {
    const stored = await loadActivation(this.options.db, activationId);
    const deployment = await readDeployment(this.options.db);
    if (!deployment) throw new PublicError('The app database has no deployment record yet: start a worker (or `npm start`) once');
    return await ensureSchedule(this.options.temporal, {
      activation: stored.activation,
      taskQueue: this.options.taskQueue,
      deploymentId: deployment.deploymentId,
      pausedNote: stored.pausedNote,
    });
  }

  /** (Re)creates every activation's schedule; one that fails is reported by id and the others carry on. */
  async syncSchedules(): Promise<{ activationId: string; result: 'created' | 'updated' | { error: string } }[]> {
    const outcomes: { activationId: string; result: 'created' | 'updated' | { error: string } }[] = [];
    for (const { id } of await listActivations(this.options.db)) {
      try {
        outcomes.push({ activationId: id, result: await this.ensureSchedule(id) });
      } catch (error) {
        outcomes.push({ activationId: id, result: { error: error instanceof PublicError ? error.message : error instanceof Error ? `${error.name}: ${error.message}` : String(error) } });
      }
    }
    return outcomes;
  }

  async trigger(activationId: string): Promise<void> {
    await loadActivation(this.options.db, activationId);
    await triggerSchedule(this.options.temporal, activationId);
  }
}
