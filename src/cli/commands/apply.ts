import type { Client } from '@temporalio/client';
import { cliEnv, withServices } from '../context.ts';
import { checkEntries, checkSources, printProblems, printSkipped } from '../config-checks.ts';
import { readConfigFiles } from '../config-files.ts';
import { CliError, colors, isTerminal, printJson } from '../output.ts';
import { deleteActivation, deleteDestination, listActivations, loadActivation, saveActivation, saveDestination } from '../../db/config-store.ts';
import type { AppDb } from '../../db/database.ts';
import { claimDeployment, readDeployment } from '../../db/deployment.ts';
import { PublicError } from '../../domain/public-error.ts';
import { STOP_GRACE_MS, stopRunsOf } from '../../temporal/stop-runs.ts';
import { deleteSchedule, ensureSchedule, pausedAgainNote, ScheduleSpecError } from '../../temporal/schedules.ts';
import { deletionSummary, planOf, printPlan, scheduleDrifts } from './apply-plan.ts';

/** `apply --prune` deletes more than this many destinations and activations only with --yes. */
export const PRUNE_CONFIRM_ABOVE = 3;

/** A schedule Temporal would not take, or could not be reached for, named by activation rather than reported as a crash. */
function scheduleFailure(activationId: string, verb: string, error: unknown): unknown {
  if (error instanceof PublicError || !(error instanceof Error)) return error;
  if (error instanceof TypeError) return new ScheduleSpecError(`activation '${activationId}': Temporal refused its schedule (schedule): ${error.message.slice(0, 200)}`);
  const code = 'code' in error && (typeof error.code === 'string' || typeof error.code === 'number') ? `, code ${String(error.code)}` : '';
  if (error.name === 'ServiceError') return new PublicError(`activation '${activationId}': its schedule could not be ${verb} in Temporal (${error.name}${code})`);
  return error;
}

/**
 * Brings Temporal back in line with the database after a failed apply (the transaction was rolled
 * back): schedules this apply created are deleted, the others are set back from what is stored.
 * A schedule another deployment owns was never touched, and is left alone.
 */
async function restoreSchedules(db: AppDb, temporal: Client, taskQueue: string, touched: readonly string[], created: ReadonlySet<string>): Promise<void> {
  const deployment = await readDeployment(db);
  if (!deployment) return;
  const existing = new Set((await listActivations(db)).map((activation) => activation.id));
  for (const id of touched) {
    try {
      if (created.has(id)) {
        await deleteSchedule(temporal, id, deployment.deploymentId);
      } else if (existing.has(id)) {
        const stored = await loadActivation(db, id);
        await ensureSchedule(temporal, { activation: stored.activation, taskQueue, deploymentId: deployment.deploymentId, pausedNote: stored.pausedNote });
      }
    } catch {
      // Best effort: `sync-schedules` repairs what is left.
    }
  }
}

export interface ApplyOptions {
  prune?: boolean;
  /** confirms a prune that deletes more than PRUNE_CONFIRM_ABOVE entries */
  yes?: boolean;
  json?: boolean;
}

/**
 * `apply`: validates like `validate` (sources included), shows the plan, then saves every
 * destination and activation and syncs their schedules as one unit: if anything fails, nothing
 * is saved and the schedules are put back as they were.
 */
export async function applyCommand(paths: string[], options: ApplyOptions): Promise<void> {
  const { entries, skipped } = await readConfigFiles(paths);
  await withServices(
    async (services) => {
      const { db, temporal, env } = services;
      const checked = await checkEntries(entries, db);
      const problems = [...checked.problems, ...(checked.problems.length === 0 ? await checkSources(services.warehouses, checked) : [])];
      if (problems.length > 0) {
        if (options.json) printJson({ applied: false, problems, skipped });
        else {
          printSkipped(skipped);
          printProblems(problems);
        }
        throw new CliError(`${problems.length} problem(s); nothing was saved`);
      }
      const plan = await planOf(db, checked, options.prune ?? false);
      const drifts = await scheduleDrifts(db, temporal, checked, plan);
      for (const drift of drifts.values()) plan.push({ kind: 'schedule', id: drift.activationId, action: 'change', detail: drift.description });
      if (!options.json) {
        printSkipped(skipped);
        console.log('Plan:');
        printPlan(plan);
      }
      const deletions = plan.filter((item) => item.action === 'delete');
      if (deletions.length > PRUNE_CONFIRM_ABOVE && !options.yes) {
        const reason = `--prune would delete ${deletionSummary(deletions)}, which the files named do not hold; nothing was changed. Check the paths (${paths.join(', ')}), then add --yes to delete them`;
        if (options.json) printJson({ applied: false, plan, skipped, refused: reason });
        throw new CliError(reason);
      }
      const deployment = await claimDeployment(db, cliEnv().devMode ? 'dev' : 'production').catch(async () => readDeployment(db));
      if (!deployment) throw new CliError('the app database has no deployment record');
      const touched = plan.filter((item) => item.kind === 'activation').map((item) => item.id);
      const created = new Set<string>();
      try {
        await db.transaction().execute(async (trx) => {
          for (const destination of checked.destinations.values()) await saveDestination(trx, destination);
          for (const { config } of checked.activations.values()) await saveActivation(trx, config);
          for (const item of plan.filter((candidate) => candidate.action === 'delete')) {
            if (item.kind === 'activation') await deleteActivation(trx, item.id);
          }
          for (const item of plan.filter((candidate) => candidate.action === 'delete' && candidate.kind === 'destination')) {
            await deleteDestination(trx, item.id);
          }
          for (const item of plan) {
            if (item.kind !== 'activation') continue;
            if (item.action === 'delete') {
              await deleteSchedule(temporal, item.id, deployment.deploymentId).catch((error: unknown) => {
                throw scheduleFailure(item.id, 'deleted', error);
              });
              continue;
            }
            const stored = await loadActivation(trx, item.id);
            const target = { activation: stored.activation, taskQueue: env.TEMPORAL_TASK_QUEUE, deploymentId: deployment.deploymentId, pausedNote: stored.pausedNote };
            const outcome = await ensureSchedule(temporal, drifts.get(item.id)?.resumedInTemporal ? { ...target, pausedAgain: pausedAgainNote(target) } : target).catch(
              (error: unknown) => {
                throw scheduleFailure(item.id, 'synced', error);
              },
            );
            if (outcome === 'created') created.add(item.id);
          }
        });
      } catch (error) {
        await restoreSchedules(db, temporal, env.TEMPORAL_TASK_QUEUE, touched, created);
        throw error;
      }
      // Pruned activations are deleted now: their runs in progress stop, their unsent rows wait in the ledger.
      const stoppedRuns = [];
      for (const item of plan.filter((candidate) => candidate.kind === 'activation' && candidate.action === 'delete')) {
        stoppedRuns.push(...(await stopRunsOf(services, item.id, { reason: `activation ${item.id} was pruned (cli apply --prune)`, graceMs: STOP_GRACE_MS })));
      }
      if (!options.json) {
        for (const run of stoppedRuns) console.log(`  stopped ${run.runId === null ? 'workflow' : `run ${run.runId}`} (${run.workflowId}) of a pruned activation: ${run.how}`);
      }
      if (options.json) printJson({ applied: true, plan, skipped, stoppedRuns });
      else {
        const changed = plan.filter((item) => item.action !== 'unchanged').length;
        console.log(`${colors.green('✓')} applied: ${changed} change(s), schedules in sync`);
        if (isTerminal && plan.some((item) => item.kind === 'activation' && item.action === 'create')) {
          console.log(colors.dim('  next: `npm run cli -- dry-run <activation>` to preview, `npm run cli -- run <activation>` to run now'));
        }
      }
    },
    { migrate: true },
  );
}
