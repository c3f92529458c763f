import { setTimeout as delay } from 'node:timers/promises';
import cliProgress from 'cli-progress';
import { withServices, type CliServices } from '../context.ts';
import { CliError, colors, isTerminal, printJson } from '../output.ts';
import { printRuns, resultText } from './activations.ts';
import { RunFailedError, RunOverlapError, type RunHandle } from '../../client.ts';
import { loadActivation } from '../../db/config-store.ts';
import { abandonRun } from '../../db/runs.ts';
import { formatRunLine, type RunSummary } from '../../domain/index.ts';
import { SEARCH_ATTRIBUTES, type RunProgress } from '../../workflows/types.ts';

const POLL_MS = 500;
const JSON_LINE_EVERY_MS = 2_000;

/** Exit code of a run that ended without succeeding. */
const RUN_FAILED_EXIT = 2;

async function progressOf(handle: RunHandle): Promise<RunProgress | undefined> {
  try {
    return await handle.progress();
  } catch {
    // Not answering yet (its first task has not run) or already closed.
    return undefined;
  }
}

async function runIdOf(services: CliServices, workflowId: string, timeoutMs: number): Promise<number | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = await services.db.selectFrom('app.runs').select('id').where('workflow_id', '=', workflowId).orderBy('id', 'desc').executeTakeFirst();
    if (row || Date.now() > deadline) return row?.id;
    await delay(200);
  }
}

function handledOf(progress: RunProgress): number {
  return progress.sent + progress.rejected + progress.failed;
}

/** A live bar on a terminal: handled of total, sent / rejected / failed, rate and ETA. */
async function watchWithBar(handle: RunHandle, done: Promise<unknown>): Promise<void> {
  const bar = new cliProgress.SingleBar(
    {
      format: `${colors.cyan('{bar}')} {phase} {value}/{total} | ${colors.green('sent {sent}')} · ${colors.yellow('rejected {rejected}')} · ${colors.red('failed {failed}')} | {rate}/s | ETA {eta_formatted}`,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  let finished = false;
  done.then(
    () => (finished = true),
    () => (finished = true),
  );
  bar.start(1, 0, { phase: 'starting', sent: 0, rejected: 0, failed: 0, rate: '0.0' });
  const startedAt = Date.now();
  while (!finished) {
    const progress = await progressOf(handle);
    if (progress) {
      const handled = handledOf(progress);
      const seconds = Math.max(0.001, (Date.now() - Date.parse(progress.startedAt)) / 1000 || (Date.now() - startedAt) / 1000);
      bar.setTotal(Math.max(1, progress.toHandle));
      bar.update(handled, { phase: progress.phase, sent: progress.sent, rejected: progress.rejected, failed: progress.failed, rate: (handled / seconds).toFixed(1) });
    }
    await Promise.race([delay(POLL_MS), done.catch(() => undefined)]);
  }
  bar.stop();
}

/** JSON lines for scripts and logs: one progress object every few seconds. */
async function watchWithLines(handle: RunHandle, done: Promise<unknown>): Promise<void> {
  let finished = false;
  done.then(
    () => (finished = true),
    () => (finished = true),
  );
  while (!finished) {
    const progress = await progressOf(handle);
    if (progress) console.log(JSON.stringify({ event: 'progress', ...progress }));
    await Promise.race([delay(JSON_LINE_EVERY_MS), done.catch(() => undefined)]);
  }
}

export async function runCommand(activationId: string, options: { wait: boolean; json?: boolean }): Promise<void> {
  await withServices(async (services) => {
    const handle = await services.client.start(activationId);
    if (!options.wait) {
      const runId = await runIdOf(services, handle.workflowId, 10_000);
      if (options.json) printJson({ workflowId: handle.workflowId, runId: runId ?? null });
      else console.log(`started run ${runId ?? '(not started yet)'} of ${activationId}: workflow ${handle.workflowId}`);
      return;
    }
    const result = handle.result();
    if (!options.json) {
      if (isTerminal) await watchWithBar(handle, result);
      else await watchWithLines(handle, result);
    }
    let summary: RunSummary;
    try {
      summary = await result;
    } catch (error) {
      if (!(error instanceof RunFailedError) && !(error instanceof RunOverlapError)) throw error;
      summary = error.summary;
    }
    if (options.json) printJson(summary);
    else if (isTerminal) console.log(formatRunLine(summary));
    else console.log(JSON.stringify({ event: 'finished', summary }));
    if (summary.status !== 'succeeded') process.exitCode = RUN_FAILED_EXIT;
  });
}

export async function triggerCommand(activationId: string, options: { json?: boolean } = {}): Promise<void> {
  await withServices(async (services) => {
    const before = await services.temporal.schedule.getHandle(`activation:${activationId}`).describe().catch(() => undefined);
    await services.client.trigger(activationId);
    // The schedule starts the workflow asynchronously; its id appears among the recent actions.
    const seen = new Set(before?.info.recentActions.map((action) => action.action.workflow.workflowId));
    for (let waited = 0; waited < 10_000; waited += 250) {
      const description = await services.temporal.schedule.getHandle(`activation:${activationId}`).describe();
      const started = description.info.recentActions.map((action) => action.action.workflow.workflowId).find((id) => !seen.has(id));
      if (started) {
        if (options.json) printJson({ activationId, workflowId: started });
        else console.log(`triggered ${activationId}: workflow ${started} (skipped if another run is in progress; see \`runs ${activationId}\`)`);
        return;
      }
      if (description.info.runningActions.length > 0 && !before) break;
      await delay(250);
    }
    if (options.json) printJson({ activationId, workflowId: null });
    else console.log(`triggered ${activationId} (the schedule starts the run; see \`runs ${activationId}\`)`);
  });
}

export async function runsCommand(activationId: string | undefined, options: { status?: RunSummary['status']; limit: number; json?: boolean }): Promise<void> {
  await withServices(async (services) => {
    if (activationId) await loadActivation(services.db, activationId);
    const runs = await services.client.runs({ ...(activationId ? { activationId } : {}), ...(options.status ? { status: options.status } : {}), limit: options.limit });
    if (options.json) printJson(runs);
    else printRuns(runs);
  });
}

async function runningRun(services: CliServices, activationId: string): Promise<{ id: number; workflow_id: string } | undefined> {
  await loadActivation(services.db, activationId);
  return await services.db
    .selectFrom('app.runs')
    .select(['id', 'workflow_id'])
    .where('activation_id', '=', activationId)
    .where('status', '=', 'running')
    .executeTakeFirst();
}

export async function progressCommand(activationId: string, options: { json?: boolean }): Promise<void> {
  await withServices(async (services) => {
    const running = await runningRun(services, activationId);
    if (!running) throw new CliError(`no run of ${activationId} is in progress (see \`runs ${activationId}\`)`);
    const progress = await progressOf(services.client.getRun(running.workflow_id));
    if (!progress) throw new CliError(`run ${running.id} (workflow ${running.workflow_id}) does not answer: is a worker running? (\`recover ${activationId}\` ends a stuck run)`);
    if (options.json) {
      printJson(progress);
      return;
    }
    const handled = handledOf(progress);
    console.log(
      `run ${progress.runId} of ${activationId}: ${progress.phase}, ${handled} of ${progress.toHandle} handled — ${progress.sent} sent, ${progress.rejected} rejected, ${progress.failed} failed, ${progress.inFlight} in flight (started ${progress.startedAt})` +
        (progress.stopped ? `\n  stopped: ${progress.stopped}` : ''),
    );
  });
}

/**
 * Ends a stuck run: terminates its workflow (and any other open run workflow of the activation)
 * and marks the run abandoned, which releases the run lock. Its rows stay in the ledger; the
 * next run picks them up (a row that was mid-call is flagged in doubt).
 */
export async function recoverCommand(activationId: string, options: { yes?: boolean; json?: boolean }): Promise<void> {
  if (!options.yes) throw new CliError(`recover ends the current run of ${activationId} (its rows wait for the next run): add --yes to proceed`);
  await withServices(async (services) => {
    const running = await runningRun(services, activationId);
    const open: string[] = [];
    for await (const execution of services.temporal.workflow.list({
      query: `${SEARCH_ATTRIBUTES.activationId} = '${activationId.replace(/'/g, '')}' AND ExecutionStatus = 'Running'`,
    })) {
      open.push(execution.workflowId);
    }
    if (running && !open.includes(running.workflow_id)) open.push(running.workflow_id);
    // The run is ended (with its counts) before its workflow, so anyone waiting on the workflow reads the final record.
    if (running) await abandonRun(services.db, running.id, 'ended by an operator (cli recover)');
    for (const workflowId of open) {
      await services.temporal.workflow
        .getHandle(workflowId)
        .terminate('recovered by an operator (cli recover)')
        .catch(() => undefined);
    }
    if (options.json) {
      printJson({ activationId, abandonedRunId: running?.id ?? null, terminatedWorkflows: open });
      return;
    }
    if (!running && open.length === 0) {
      console.log(`nothing to recover: no run of ${activationId} is in progress`);
      return;
    }
    console.log(
      `recovered ${activationId}: ${running ? `run ${running.id} marked abandoned` : 'no run record was open'}; ${open.length} workflow(s) terminated (${open.join(', ')}); the next run sends what is left`,
    );
    const summary = running ? (await services.client.runs({ activationId, limit: 1 }))[0] : undefined;
    if (summary) console.log(colors.dim(`  ${resultText(summary)}`));
  });
}
