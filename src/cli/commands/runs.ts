import { setTimeout as delay } from 'node:timers/promises';
import cliProgress from 'cli-progress';
import { withServices, type CliServices } from '../context.ts';
import { CliError, colors, isTerminal, printJson, terminalWidth } from '../output.ts';
import { printRuns, resultText } from './activations.ts';
import { RunFailedError, RunOverlapError, type RunHandle } from '../../client.ts';
import { loadActivation } from '../../db/config-store.ts';
import { abandonRun } from '../../db/runs.ts';
import { formatRunLine, type RunSummary } from '../../domain/index.ts';
import { openRunsOf } from '../../temporal/stop-runs.ts';
import type { RunProgress } from '../../run/types.ts';

const POLL_MS = 500;
const JSON_LINE_EVERY_MS = 2_000;

/** Exit code of a run that ended without succeeding. */
const RUN_FAILED_EXIT = 2;

async function progressOf(handle: Pick<RunHandle, 'progress'>): Promise<RunProgress | undefined> {
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

/** What the bar shows; `scanning` until the run knows how many rows it has to handle. */
export interface BarPayload {
  scanning: boolean;
  phase: string;
  sent: number;
  rejected: number;
  failed: number;
  rate: string;
}

const SENDING_FORMAT = `${colors.cyan('{bar}')} {phase} {value}/{total} | ${colors.green('sent {sent}')} · ${colors.yellow('rejected {rejected}')} · ${colors.red('failed {failed}')} | {rate}/s | ETA {eta_formatted}`;

/** The bar's line: while the segment is scanned there is no total yet, so no bar and no count. */
export const formatBar: cliProgress.GenericFormatter = (options, params, payload: BarPayload) =>
  payload.scanning
    ? `${colors.cyan(payload.phase === 'starting' ? 'starting' : 'scanning the segment')}… ${cliProgress.Format.TimeFormat(Math.round((Date.now() - params.startTime) / 1000), options, 1)}`
    : cliProgress.Format.Formatter({ ...options, format: SENDING_FORMAT }, params, payload);

function rateOf(handled: number, seconds: number): string {
  return (handled / Math.max(0.001, seconds)).toFixed(1);
}

/**
 * A live bar on a terminal: a scanning state until the run knows its total, then handled of total,
 * sent / rejected / failed, rate and ETA. `done` resolves to the run's summary (undefined when it
 * could not be had): the bar ends on its counts, since the last poll may predate the last sends.
 */
export async function watchWithBar(
  handle: { progress(): Promise<RunProgress> },
  done: Promise<RunSummary | undefined>,
  options: { pollMs?: number; bar?: cliProgress.Options } = {},
): Promise<void> {
  // The counts after the bar take about 70 columns; the bar gives way on a narrow terminal.
  const barsize = Math.max(10, Math.min(40, (terminalWidth(process.stderr) ?? 120) - 72));
  const bar = new cliProgress.SingleBar({ format: formatBar, hideCursor: true, clearOnComplete: false, etaBuffer: 20, barsize, ...options.bar }, cliProgress.Presets.shades_classic);
  let summary: RunSummary | undefined;
  let finished = false;
  const settled = done.then(
    (result) => {
      summary = result;
      finished = true;
    },
    () => {
      finished = true;
    },
  );
  const payload: BarPayload = { scanning: true, phase: 'starting', sent: 0, rejected: 0, failed: 0, rate: '0.0' };
  bar.start(0, 0, payload);
  const startedAt = Date.now();
  while (!finished) {
    const progress = await progressOf(handle);
    if (progress) {
      const scanning = progress.phase === 'starting' || progress.phase === 'detecting';
      const handled = handledOf(progress);
      const seconds = (Date.now() - (Date.parse(progress.startedAt) || startedAt)) / 1000;
      if (!scanning) bar.setTotal(Math.max(progress.toHandle, handled));
      bar.update(handled, { scanning, phase: progress.phase, sent: progress.sent, rejected: progress.rejected, failed: progress.failed, rate: rateOf(handled, seconds) });
    }
    await Promise.race([delay(options.pollMs ?? POLL_MS), settled]);
  }
  if (summary) {
    const handled = summary.sent + summary.rejected + summary.failed;
    const seconds = ((summary.finishedAt ? Date.parse(summary.finishedAt) : Date.now()) - Date.parse(summary.startedAt)) / 1000;
    // A run that succeeded handled everything it had; one that stopped shows how far it got.
    bar.setTotal(summary.status === 'succeeded' ? handled : Math.max(bar.getTotal(), handled));
    bar.update(handled, { scanning: false, phase: summary.status, sent: summary.sent, rejected: summary.rejected, failed: summary.failed, rate: rateOf(handled, seconds) });
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

function summaryOf(error: unknown): RunSummary | undefined {
  return error instanceof RunFailedError || error instanceof RunOverlapError ? error.summary : undefined;
}

/** The run's result line, then its warnings (counts only, no row values), one a line. */
export function resultLines(summary: RunSummary): string {
  const warnings = summary.warnings.map((warning) => colors.yellow(`  warning: ${warning}`));
  return [formatRunLine(summary), ...warnings].join('\n');
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
      if (isTerminal) await watchWithBar(handle, result.then((summary) => summary, (error: unknown) => summaryOf(error)));
      else await watchWithLines(handle, result);
    }
    let summary: RunSummary;
    try {
      summary = await result;
    } catch (error) {
      const ended = summaryOf(error);
      if (!ended) throw error;
      summary = ended;
    }
    if (options.json) printJson(summary);
    else if (isTerminal) console.log(resultLines(summary));
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
    // A deleted (or pruned) activation's run can be recovered too: only runs and workflows are looked at.
    const { run, workflowIds: open } = await openRunsOf(services, activationId);
    if (!run && open.length === 0) {
      const known = await services.db.selectFrom('app.activations').select('id').where('id', '=', activationId).executeTakeFirst();
      if (!known) await loadActivation(services.db, activationId);
    }
    const running = run ? { id: run.id, workflow_id: run.workflowId } : undefined;
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
