import { sql } from 'kysely';
import { ConfigValidationError, NotFoundError, loadActivation, watermarkText } from '../db/config-store.ts';
import type { AppDb } from '../db/database.ts';
import type { LedgerStatus, RunsTable } from '../db/schema.ts';
import { laterCursorValue, type KeyValue } from '../source/row-key.ts';
import type { Selectable } from 'kysely';
import type { FinishRunInput, RunSummary, StartRunResult } from '../workflows/types.ts';
import type { ActivityDeps } from './deps.ts';
import { misconfigured } from './failures.ts';

export function toRunSummary(run: Selectable<RunsTable>): RunSummary {
  return {
    runId: run.id,
    activationId: run.activation_id,
    status: run.status,
    startedAt: run.started_at.toISOString(),
    finishedAt: run.finished_at?.toISOString() ?? null,
    error: run.error,
    sourceRows: run.source_rows,
    newRows: run.new_rows,
    duplicateKeys: run.duplicate_keys,
    baselineRows: run.baseline_rows,
    retriedRows: run.retried_rows,
    sent: run.sent,
    rejected: run.rejected,
    failed: run.failed,
    abandoned: run.abandoned,
    skippedAlreadySent: run.skipped_already_sent,
    inDoubt: run.in_doubt,
    watermarkBefore: watermarkText(run.watermark_before),
    watermarkAfter: watermarkText(run.watermark_after),
  };
}

export async function getRunSummary(db: AppDb, runId: number): Promise<RunSummary> {
  const run = await db.selectFrom('app.runs').selectAll().where('id', '=', runId).executeTakeFirstOrThrow();
  return toRunSummary(run);
}

const RETRYABLE_STATUSES: LedgerStatus[] = ['pending', 'sending', 'failed'];

export function createRunActivities(deps: ActivityDeps) {
  const { db } = deps;

  async function startRun(input: { activationId: string; workflowId: string }): Promise<StartRunResult> {
    let stored;
    try {
      stored = await loadActivation(db, input.activationId);
    } catch (error) {
      if (error instanceof NotFoundError || error instanceof ConfigValidationError) throw misconfigured(error.message);
      throw error;
    }
    const { destination, activation } = stored;
    const concurrency = activation.concurrency;

    const running = await db
      .selectFrom('app.runs')
      .select(['id', 'workflow_id'])
      .where('activation_id', '=', activation.id)
      .where('status', '=', 'running')
      .executeTakeFirst();
    if (running?.workflow_id === input.workflowId) return { runId: running.id, concurrency };
    if (running) {
      if (await deps.isWorkflowOpen(running.workflow_id)) {
        const skipped = await db
          .insertInto('app.runs')
          .values({
            activation_id: activation.id,
            workflow_id: input.workflowId,
            status: 'skipped',
            finished_at: new Date(),
            config: JSON.stringify({ destination, activation }),
            error: `run ${running.id} (workflow ${running.workflow_id}) is still in progress`,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        return { runId: skipped.id, concurrency, skipped: { reason: `run ${running.id} is still in progress` } };
      }
      await db
        .updateTable('app.runs')
        .set({ status: 'abandoned', finished_at: new Date(), error: 'its workflow ended without finishing the run' })
        .where('id', '=', running.id)
        .where('status', '=', 'running')
        .execute();
    }

    return await db.transaction().execute(async (trx) => {
      const activationRow = await trx
        .selectFrom('app.activations')
        .select('watermark')
        .where('id', '=', activation.id)
        .forUpdate()
        .executeTakeFirstOrThrow();
      // Until a run has succeeded, the activation is on its first run: a first run that died
      // half-way must not leave the rest of the backlog to be invited under the `baseline` policy.
      // A run that succeeded over an empty segment took the baseline too (of nothing).
      const succeeded = await trx
        .selectFrom('app.runs')
        .select('id')
        .where('activation_id', '=', activation.id)
        .where('status', '=', 'succeeded')
        .limit(1)
        .executeTakeFirst();
      // A concurrent start loses on the unique index and is retried by Temporal; by then it sees this run.
      const run = await trx
        .insertInto('app.runs')
        .values({
          activation_id: activation.id,
          workflow_id: input.workflowId,
          status: 'running',
          config: JSON.stringify({ destination, activation }),
          first_run: succeeded === undefined,
          watermark_before: activationRow.watermark === null ? null : JSON.stringify(activationRow.watermark),
        })
        .returning('id')
        .executeTakeFirstOrThrow();

      const abandoned = await trx
        .updateTable('app.ledger')
        .set({
          status: 'abandoned',
          last_run_id: run.id,
          claimed_page: null,
          updated_at: new Date(),
          error_message: sql<string>`coalesce(error_message, '') || ${` (gave up after ${activation.maxRunsForFailedRows} runs)`}`,
        })
        .where('activation_id', '=', activation.id)
        .where('status', 'in', RETRYABLE_STATUSES)
        .where('runs_attempted', '>=', activation.maxRunsForFailedRows)
        .executeTakeFirst();
      const retried = await trx
        .updateTable('app.ledger')
        .set((eb) => ({
          last_run_id: run.id,
          claimed_page: 0,
          // Only a row that was tried and failed for transient reasons spends one of its runs; rows
          // never tried, or held back by a misconfigured activation, keep their allowance.
          runs_attempted: sql<number>`${eb.ref('runs_attempted')} + case when status in ('failed', 'sending') and coalesce(error_class, '') <> 'misconfigured' then 1 else 0 end`,
          // a row left 'sending' by a crash may have reached Trustpilot: sending it again risks a duplicate
          in_doubt: sql<boolean>`in_doubt or status = 'sending'`,
          status: sql<LedgerStatus>`case when status = 'sending' then 'failed' else status end`,
          updated_at: new Date(),
        }))
        .where('activation_id', '=', activation.id)
        .where('status', 'in', RETRYABLE_STATUSES)
        .executeTakeFirst();
      await trx
        .updateTable('app.runs')
        .set({ retried_rows: Number(retried.numUpdatedRows), abandoned: Number(abandoned.numUpdatedRows) })
        .where('id', '=', run.id)
        .execute();
      return { runId: run.id, concurrency };
    });
  }

  async function runConcurrency(runId: number): Promise<{ concurrency: number }> {
    const row = await db.selectFrom('app.runs').select('config').where('id', '=', runId).executeTakeFirstOrThrow();
    const activation = row.config.activation as { concurrency?: number } | undefined;
    return { concurrency: activation?.concurrency ?? 8 };
  }

  async function claimRetries(input: { runId: number; afterId: number }): Promise<{ entryIds: number[]; done: boolean }> {
    const batch = deps.pageSize ?? 500;
    const rows = await db
      .selectFrom('app.ledger')
      .select('id')
      .where('last_run_id', '=', input.runId)
      .where('claimed_page', '=', 0)
      .where('status', 'in', RETRYABLE_STATUSES)
      .where('id', '>', input.afterId)
      .orderBy('id')
      .limit(batch)
      .execute();
    return { entryIds: rows.map((row) => row.id), done: rows.length < batch };
  }

  async function finishRun(input: FinishRunInput): Promise<RunSummary> {
    return await db.transaction().execute(async (trx) => {
      const run = await trx.selectFrom('app.runs').selectAll().where('id', '=', input.runId).forUpdate().executeTakeFirstOrThrow();
      if (run.status !== 'running') return toRunSummary(run);
      const counts = await trx
        .selectFrom('app.ledger')
        .select((eb) => [
          'status',
          eb.fn.countAll<number>().as('count'),
          eb.fn.count<number>(eb.case().when('in_doubt', '=', true).then(1).end()).as('in_doubt'),
        ])
        .where('last_run_id', '=', input.runId)
        .groupBy('status')
        .execute();
      const countOf = (status: LedgerStatus) => Number(counts.find((row) => row.status === status)?.count ?? 0);
      const inDoubt = counts.reduce((total, row) => total + Number(row.in_doubt), 0);
      const succeeded = input.outcome === 'succeeded';
      const watermarkAfter = succeeded
        ? laterCursorValue(run.watermark_before as KeyValue, run.max_cursor as KeyValue)
        : run.watermark_before;
      const finished = await trx
        .updateTable('app.runs')
        .set({
          status: input.outcome,
          finished_at: new Date(),
          error: input.error ?? null,
          sent: countOf('sent'),
          rejected: countOf('rejected'),
          failed: countOf('failed') + countOf('pending') + countOf('sending'),
          abandoned: countOf('abandoned'),
          in_doubt: inDoubt,
          watermark_after: watermarkAfter === null ? null : JSON.stringify(watermarkAfter),
        })
        .where('id', '=', input.runId)
        .returningAll()
        .executeTakeFirstOrThrow();
      if (succeeded && watermarkAfter !== null) {
        await trx
          .updateTable('app.activations')
          .set({ watermark: JSON.stringify(watermarkAfter) })
          .where('id', '=', run.activation_id)
          .execute();
      }
      return toRunSummary(finished);
    });
  }

  async function runSummary(runId: number): Promise<RunSummary> {
    return await getRunSummary(db, runId);
  }

  return { startRun, runConcurrency, claimRetries, finishRun, runSummary };
}
