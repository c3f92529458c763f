import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import {
  ApplicationFailure,
  CancellationScope,
  ContinueAsNew,
  continueAsNew,
  defineQuery,
  isCancellation,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import {
  PROGRESS_QUERY,
  SEARCH_ATTRIBUTES,
  type ActivationRunInput,
  type ClaimResult,
  type RunPhase,
  type RunProgress,
  type RunState,
  type RunSummary,
} from '../run/types.ts';
import { AFTERMATH, BOOKKEEPING, READING } from './activity-options.ts';
import { Dispatcher } from './dispatcher.ts';
import { RUN_FAILURE_TYPES, stopOf, type Stop } from './run-stop.ts';

export const progressQuery = defineQuery<RunProgress>(PROGRESS_QUERY);

const bookkeeping = proxyActivities<Activities>(BOOKKEEPING);
const reading = proxyActivities<Activities>(READING);
// Alerts and self-protection: a few tries, and never a reason to fail the run.
const aftermath = proxyActivities<Activities>(AFTERMATH);

const attributes = {
  outcome: defineSearchAttributeKey(SEARCH_ATTRIBUTES.outcome, SearchAttributeType.KEYWORD),
  rejectedRows: defineSearchAttributeKey(SEARCH_ATTRIBUTES.rejectedRows, SearchAttributeType.INT),
  result: defineSearchAttributeKey(SEARCH_ATTRIBUTES.result, SearchAttributeType.TEXT),
};

const NOTHING_LEFT: ClaimResult = { entryIds: [], lastId: 0, rejected: 0, done: true };

export async function activationRun(input: ActivationRunInput): Promise<RunSummary> {
  let run: RunState;
  if (input.resume) {
    run = { ...input.resume, executions: input.resume.executions + 1 };
  } else {
    // The deployment (app database) that started this run: a worker of another one refuses it.
    const deploymentId = workflowInfo().memo?.deploymentId;
    const started = await bookkeeping.startRun({
      activationId: input.activationId,
      workflowId: workflowInfo().workflowId,
      ...(typeof deploymentId === 'string' ? { deploymentId } : {}),
    });
    if (started.skipped) {
      log.info('Run skipped', { activationId: input.activationId, reason: started.skipped.reason });
      const summary = await bookkeeping.runSummary(started.runId);
      upsertSearchAttributes([
        { key: attributes.outcome, value: 'skipped' },
        { key: attributes.result, value: `skipped: ${started.skipped.reason}` },
      ]);
      setCurrentDetails(`Skipped: ${started.skipped.reason}`);
      return summary;
    }
    run = {
      runId: started.runId,
      concurrency: started.concurrency,
      detected: false,
      afterId: 0,
      executions: 1,
      startedAtMs: workflowInfo().runStartTime.getTime(),
      toHandle: started.retriedRows,
      counts: { sent: 0, rejected: 0, failed: 0 },
    };
  }

  let phase: RunPhase = run.detected ? 'sending' : 'detecting';
  const dispatcher = new Dispatcher(run, () => showProgress());
  const progress = (): RunProgress => ({
    runId: run.runId,
    activationId: input.activationId,
    phase,
    execution: run.executions,
    startedAt: new Date(run.startedAtMs).toISOString(),
    toHandle: run.toHandle,
    ...run.counts,
    inFlight: dispatcher.inFlight,
    stopped: dispatcher.stop?.reason ?? null,
  });
  setHandler(progressQuery, progress);
  let lastShown = 0;
  // Shown on the run's page in the Temporal UI; refreshed every few rows, not on every one.
  function showProgress(force = false): void {
    const { sent, rejected, failed } = run.counts;
    const handled = sent + rejected + failed;
    if (!force && handled - lastShown < 25) return;
    lastShown = handled;
    setCurrentDetails(
      `**${input.activationId}**, run ${run.runId}: ${phase}` +
        (run.detected ? ` — ${handled} of ${run.toHandle} handled: ${sent} sent, ${rejected} rejected, ${failed} failed, ${dispatcher.inFlight} in flight` : ''),
    );
  }
  showProgress(true);

  let stop: Stop | undefined;
  try {
    if (!run.detected) {
      const found = await reading.detectNewRows.executeWithOptions({ ...READING, summary: `scan the segment of ${input.activationId}` }, [
        { runId: run.runId },
      ]);
      run.detected = true;
      run.toHandle += found.newRows;
      phase = 'sending';
      showProgress(true);
    }
    await sendBatches(run, dispatcher, input);
  } catch (error) {
    if (error instanceof ContinueAsNew) throw error;
    if (isCancellation(error)) {
      await CancellationScope.nonCancellable(async () => {
        await dispatcher.drained();
        await finish(run, { kind: 'stopped', reason: 'the run was cancelled' });
      });
      throw error;
    }
    stop = stopOf(error);
  }
  await dispatcher.drained();
  stop ??= dispatcher.stop;
  phase = 'finishing';
  showProgress(true);
  const summary = await finish(run, stop);
  phase = 'done';
  if (stop) throw ApplicationFailure.create({ message: stop.reason, type: RUN_FAILURE_TYPES[stop.kind], nonRetryable: true });
  return summary;

  async function finish(state: RunState, reason: Stop | undefined): Promise<RunSummary> {
    const summary = await bookkeeping.finishRun({
      runId: state.runId,
      outcome: reason ? 'failed' : 'succeeded',
      ...(reason ? { error: reason.reason, failureKind: reason.kind } : {}),
    });
    const result = `${summary.newRows} new → ${summary.sent} sent, ${summary.rejected} rejected, ${summary.failed} failed`;
    upsertSearchAttributes([
      { key: attributes.outcome, value: summary.status },
      { key: attributes.rejectedRows, value: summary.rejected },
      { key: attributes.result, value: reason ? `${result} — ${reason.reason}` : result },
    ]);
    setCurrentDetails(`**${input.activationId}**, run ${state.runId}: ${summary.status} — ${result}${reason ? `\n\n${reason.reason}` : ''}`);
    try {
      await aftermath.afterRun({ runId: state.runId });
    } catch (error) {
      log.warn('Alerts or auto-pause failed', { runId: state.runId, reason: stopOf(error).reason });
    }
    return summary;
  }
}

/**
 * Claims the run's rows batch by batch and sends them; the next batch is claimed (its invitations
 * built) while the current one sends, so claims never wait behind sends. Continues as new when
 * history grows, carrying only the last dispatched ledger id.
 */
async function sendBatches(run: RunState, dispatcher: Dispatcher, input: ActivationRunInput): Promise<void> {
  const claim = (afterId: number) =>
    reading.claimBatch.executeWithOptions({ ...READING, summary: `claim the rows after ledger id ${afterId}` }, [{ runId: run.runId, afterId }]);
  let next: Promise<ClaimResult> = claim(run.afterId);
  for (;;) {
    const batch = await next;
    run.counts.rejected += batch.rejected;
    next = batch.done ? Promise.resolve(NOTHING_LEFT) : claim(batch.lastId);
    // A prefetched claim left behind when the run stops or continues as new must not fail the workflow.
    next.catch(() => undefined);
    for (const entryId of batch.entryIds) {
      if (dispatcher.full) await dispatcher.slot();
      if (dispatcher.stop) return;
      if (workflowInfo().continueAsNewSuggested) {
        await dispatcher.drained();
        if (dispatcher.stop) return;
        await continueAsNew<(input: ActivationRunInput) => Promise<RunSummary>>({ activationId: input.activationId, resume: run });
      }
      dispatcher.dispatch(entryId);
      run.afterId = entryId;
    }
    run.afterId = Math.max(run.afterId, batch.lastId);
    if (batch.done) return;
  }
}
