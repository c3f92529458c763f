import { sql } from 'kysely';
import { ConfigValidationError, NotFoundError, loadActivation, type StoredActivation } from '../db/config-store.ts';
import { handEarlierRowsTo } from '../db/earlier-rows.ts';
import { abandonRun, finishRunRecord, getRunSummary, isFirstRun, isYoungCliRun } from '../db/runs.ts';
import { needsFullScan } from '../detection/range.ts';
import { readDeployment } from '../db/deployment.ts';
import type { FinishRunInput, RunSummary, StartRunInput, StartRunResult } from '../run/types.ts';
import type { ActivityDeps } from './deps.ts';
import { misconfigured, otherDeployment } from './failures.ts';
import { assertOwnRun } from './run-context.ts';

export function createRunActivities(deps: ActivityDeps) {
  const { db } = deps;

  async function loadForRun(activationId: string): Promise<StoredActivation> {
    try {
      return await loadActivation(db, activationId);
    } catch (error) {
      if (error instanceof NotFoundError || error instanceof ConfigValidationError) throw misconfigured(error.message);
      throw error;
    }
  }

  /**
   * The run lock: a unique index admits one 'running' run per activation. A retried start of the
   * same workflow finds its own run; a start while another run's workflow is open is recorded as
   * skipped; a run whose workflow ended without finishing it is marked abandoned, and its rows are
   * picked up by this one.
   */
  async function takeOverOrSkip(stored: StoredActivation, workflowId: string): Promise<StartRunResult | undefined> {
    const { activation, destination } = stored;
    const running = await db
      .selectFrom('app.runs')
      .select(['id', 'workflow_id', 'retried_rows', 'started_at'])
      .where('activation_id', '=', activation.id)
      .where('status', '=', 'running')
      .executeTakeFirst();
    if (!running) return undefined;
    if (running.workflow_id === workflowId) return { runId: running.id, concurrency: activation.concurrency, retriedRows: running.retried_rows };
    if (isYoungCliRun(running.workflow_id, running.started_at) || (await deps.isWorkflowOpen(running.workflow_id))) {
      const reason = `run ${running.id} (workflow ${running.workflow_id}) is still in progress`;
      const skipped = await db
        .insertInto('app.runs')
        .values({
          activation_id: activation.id,
          workflow_id: workflowId,
          status: 'skipped',
          finished_at: sql<Date>`now()`,
          config: JSON.stringify({ destination, activation }),
          error: reason,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      return { runId: skipped.id, concurrency: activation.concurrency, retriedRows: 0, skipped: { reason } };
    }
    await abandonRun(db, running.id, 'its workflow ended without finishing the run');
    return undefined;
  }

  async function openRun(stored: StoredActivation, workflowId: string): Promise<StartRunResult> {
    const { activation, destination } = stored;
    return await db.transaction().execute(async (trx) => {
      const activationRow = await trx
        .selectFrom('app.activations')
        .select(['watermark', 'last_full_scan_at'])
        .where('id', '=', activation.id)
        .forUpdate()
        .executeTakeFirstOrThrow();
      const firstRun = await isFirstRun(trx, activation.id);
      // A concurrent start loses on the unique index and is retried by Temporal; by then it sees this run.
      const run = await trx
        .insertInto('app.runs')
        .values({
          activation_id: activation.id,
          workflow_id: workflowId,
          status: 'running',
          config: JSON.stringify({ destination, activation }),
          first_run: firstRun,
          full_scan: needsFullScan(stored, activationRow.last_full_scan_at, new Date()),
          watermark_before: activationRow.watermark === null ? null : JSON.stringify(activationRow.watermark),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const { retried, abandoned } = await handEarlierRowsTo(trx, activation, run.id);
      await trx.updateTable('app.runs').set({ retried_rows: retried, abandoned }).where('id', '=', run.id).execute();
      return { runId: run.id, concurrency: activation.concurrency, retriedRows: retried };
    });
  }

  async function startRun(input: StartRunInput): Promise<StartRunResult> {
    if (input.deploymentId !== undefined) {
      const own = await readDeployment(db);
      if (own && own.deploymentId !== input.deploymentId) {
        throw otherDeployment(`Workflow ${input.workflowId} was started by deployment ${input.deploymentId}; this worker serves deployment ${own.deploymentId}`);
      }
    }
    const stored = await loadForRun(input.activationId);
    return (await takeOverOrSkip(stored, input.workflowId)) ?? (await openRun(stored, input.workflowId));
  }

  async function finishRun(input: FinishRunInput): Promise<RunSummary> {
    await assertOwnRun(db, input.runId);
    return await finishRunRecord(db, input);
  }

  async function runSummary(runId: number): Promise<RunSummary> {
    await assertOwnRun(db, runId);
    const summary = await getRunSummary(db, runId);
    if (!summary) throw misconfigured(`Run ${runId} does not exist`);
    return summary;
  }

  return { startRun, finishRun, runSummary };
}
