import { randomBytes } from 'node:crypto';
import { WorkflowFailedError, WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import { loadActivation, listActivations } from './db/config-store.ts';
import type { AppDb } from './db/database.ts';
import type { LedgerStatus } from './db/schema.ts';
import { getRunSummary, toRunSummary } from './activities/runs.ts';
import { activationSearchAttribute, ensureSchedule, triggerSchedule, workflowIdPrefixFor } from './schedules/index.ts';
import type { RunSummary } from './workflows/types.ts';
import type { activationRun } from './workflows/index.ts';

export interface InvitationsClientOptions {
  temporal: Client;
  db: AppDb;
  taskQueue: string;
}

export type { RunSummary };

export interface LedgerRow {
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

/** The typed way for programs to start runs, manage schedules and read run outcomes. */
export class InvitationsClient {
  constructor(private readonly options: InvitationsClientOptions) {}

  /** Starts a run now, outside the schedule. A run already in progress makes this one a no-op ('skipped'). */
  async startRun(activationId: string): Promise<WorkflowHandle<typeof activationRun>> {
    await loadActivation(this.options.db, activationId);
    return await this.options.temporal.workflow.start('activationRun', {
      args: [{ activationId }],
      taskQueue: this.options.taskQueue,
      // The random part keeps two starts in the same millisecond distinct; the run lock decides which one runs.
      workflowId: `${workflowIdPrefixFor(activationId)}-manual-${new Date().toISOString()}-${randomBytes(3).toString('hex')}`,
      typedSearchAttributes: [{ key: activationSearchAttribute, value: activationId }],
    });
  }

  /** Starts a run and waits for its summary; a failed run's summary carries its error. */
  async runNow(activationId: string): Promise<RunSummary> {
    const handle = await this.startRun(activationId);
    return await this.waitForRun(handle.workflowId);
  }

  async waitForRun(workflowId: string): Promise<RunSummary> {
    try {
      return await this.options.temporal.workflow.getHandle<typeof activationRun>(workflowId).result();
    } catch (error) {
      if (!(error instanceof WorkflowFailedError)) throw error;
      const run = await this.options.db
        .selectFrom('app.runs')
        .selectAll()
        .where('workflow_id', '=', workflowId)
        .orderBy('id', 'desc')
        .executeTakeFirst();
      if (!run) throw error;
      return toRunSummary(run);
    }
  }

  async runSummary(runId: number): Promise<RunSummary> {
    return await getRunSummary(this.options.db, runId);
  }

  async recentRuns(activationId: string, limit = 20): Promise<RunSummary[]> {
    const runs = await this.options.db
      .selectFrom('app.runs')
      .selectAll()
      .where('activation_id', '=', activationId)
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return runs.map(toRunSummary);
  }

  /** The ledger as an operator reads it: source keys, statuses and reasons (no personal data). */
  async ledgerRows(activationId: string, filter: { status?: LedgerStatus; limit?: number } = {}): Promise<LedgerRow[]> {
    let query = this.options.db
      .selectFrom('app.ledger')
      .select(['row_key', 'status', 'attempts', 'runs_attempted', 'in_doubt', 'error_class', 'error_message', 'last_run_id', 'sent_at', 'updated_at'])
      .where('activation_id', '=', activationId);
    if (filter.status) query = query.where('status', '=', filter.status);
    const rows = await query.orderBy('updated_at', 'desc').orderBy('id', 'desc').limit(filter.limit ?? 50).execute();
    return rows.map((row) => ({
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

  async ensureSchedule(activationId: string): Promise<void> {
    const { activation } = await loadActivation(this.options.db, activationId);
    await ensureSchedule(this.options.temporal, activation, this.options.taskQueue);
  }

  async ensureAllSchedules(): Promise<string[]> {
    const activations = await listActivations(this.options.db);
    for (const { config } of activations) await ensureSchedule(this.options.temporal, config, this.options.taskQueue);
    return activations.map((activation) => activation.id);
  }

  async triggerSchedule(activationId: string): Promise<void> {
    await triggerSchedule(this.options.temporal, activationId);
  }

  async isWorkflowOpen(workflowId: string): Promise<boolean> {
    return await isWorkflowOpen(this.options.temporal, workflowId);
  }
}

export async function isWorkflowOpen(temporal: Client, workflowId: string): Promise<boolean> {
  try {
    const description = await temporal.workflow.getHandle(workflowId).describe();
    return description.status.name === 'RUNNING';
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}
