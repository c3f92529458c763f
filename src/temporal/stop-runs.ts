import type { Client } from '@temporalio/client';
import type { AppDb } from '../db/database.ts';
import { abandonRun } from '../db/runs.ts';
import { SEARCH_ATTRIBUTES } from '../run/types.ts';
import { isWorkflowOpen } from './executions.ts';

/** How long a deleted activation's run may take to finish its calls in flight before it is terminated. */
export const STOP_GRACE_MS = 30_000;

export interface StoppedRun {
  workflowId: string;
  /** the run record it held, if any */
  runId: number | null;
  /** cancelled: it finished its calls in flight and ended its run; terminated: it did not within the grace period */
  how: 'cancelled' | 'terminated';
}

/** The activation's open run record and every open workflow of it (a schedule's, a program's, the CLI's). */
export async function openRunsOf(deps: { db: AppDb; temporal: Client }, activationId: string): Promise<{ run: { id: number; workflowId: string } | undefined; workflowIds: string[] }> {
  const running = await deps.db
    .selectFrom('app.runs')
    .select(['id', 'workflow_id'])
    .where('activation_id', '=', activationId)
    .where('status', '=', 'running')
    .executeTakeFirst();
  const workflowIds: string[] = [];
  for await (const execution of deps.temporal.workflow.list({
    query: `${SEARCH_ATTRIBUTES.activationId} = '${activationId.replace(/'/g, '')}' AND ExecutionStatus = 'Running'`,
  })) {
    workflowIds.push(execution.workflowId);
  }
  // The list is eventually consistent: a run just started may not be listed yet.
  if (running && !workflowIds.includes(running.workflow_id) && (await isWorkflowOpen(deps.temporal, running.workflow_id))) workflowIds.push(running.workflow_id);
  return { run: running ? { id: running.id, workflowId: running.workflow_id } : undefined, workflowIds };
}

/**
 * Stops the activation's open runs, when it is deleted: each workflow is cancelled, so it lets its
 * calls in flight finish and record their outcome, and ends its run; one still open after
 * `graceMs` is terminated and its run marked abandoned. Rows not yet sent stay in the ledger.
 * Call it after the activation is marked deleted: from then on no send of it takes a row.
 */
export async function stopRunsOf(deps: { db: AppDb; temporal: Client }, activationId: string, options: { reason: string; graceMs: number }): Promise<StoppedRun[]> {
  const { run, workflowIds } = await openRunsOf(deps, activationId);
  const stopped = await Promise.all(
    workflowIds.map(async (workflowId): Promise<StoppedRun> => {
      const handle = deps.temporal.workflow.getHandle(workflowId);
      await handle.cancel().catch(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      const ended = await Promise.race([
        handle.result().then(
          () => true,
          () => true,
        ),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), options.graceMs);
        }),
      ]);
      clearTimeout(timer);
      const runId = run?.workflowId === workflowId ? run.id : null;
      if (ended) return { workflowId, runId, how: 'cancelled' };
      if (runId !== null) await abandonRun(deps.db, runId, options.reason);
      await handle.terminate(options.reason).catch(() => undefined);
      return { workflowId, runId, how: 'terminated' };
    }),
  );
  // A run record whose workflow is already gone: end it, so the next run is not held back.
  if (run && !workflowIds.includes(run.workflowId)) await abandonRun(deps.db, run.id, options.reason);
  return stopped;
}
