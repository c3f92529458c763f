import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ContinueAsNew,
  condition,
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
import { BOOKKEEPING_RETRY, DETECTION_RETRY, HEARTBEAT_TIMEOUT_MS, SEND_RETRY } from '../run/policies.ts';
import {
  MISCONFIGURED_FAILURE,
  PROGRESS_QUERY,
  SEARCH_ATTRIBUTES,
  UNAVAILABLE_FAILURE,
  type ActivationRunInput,
  type ClaimResult,
  type FailureKind,
  type RunPhase,
  type RunProgress,
  type RunState,
  type RunSummary,
  type SendOutcome,
} from '../run/types.ts';

export const progressQuery = defineQuery<RunProgress>(PROGRESS_QUERY);

interface RetrySpec {
  initialIntervalMs: number;
  maximumIntervalMs: number;
  backoffCoefficient: number;
  maximumAttempts: number;
}

/** Failures that retrying cannot fix end the activity at once, whatever its policy. */
function retryPolicy(spec: RetrySpec) {
  return {
    initialInterval: spec.initialIntervalMs,
    maximumInterval: spec.maximumIntervalMs,
    backoffCoefficient: spec.backoffCoefficient,
    maximumAttempts: spec.maximumAttempts,
    nonRetryableErrorTypes: [MISCONFIGURED_FAILURE, UNAVAILABLE_FAILURE],
  };
}

// Postgres only: through a restart, within a bound.
const BOOKKEEPING = { startToCloseTimeout: '2 minutes', retry: retryPolicy(BOOKKEEPING_RETRY) };

// Reads the warehouse: bounded by the activation's statement timeout (at most 6 hours); the
// heartbeat notices a dead worker long before.
const READING = { startToCloseTimeout: '7 hours', heartbeatTimeout: '1 minute', retry: retryPolicy(DETECTION_RETRY) };

// One invitation per activity. Retries here cover transient trouble within a run; rows still
// failing afterwards stay 'failed' in the ledger and are tried again by later runs. Long enough
// for a far pacing slot when many activations share one API key; a dead worker is noticed by the
// heartbeat timeout, not this one.
const SENDING = { startToCloseTimeout: '10 minutes', heartbeatTimeout: HEARTBEAT_TIMEOUT_MS, retry: retryPolicy(SEND_RETRY) };

const bookkeeping = proxyActivities<Activities>(BOOKKEEPING);
const reading = proxyActivities<Activities>(READING);
const sending = proxyActivities<Activities>(SENDING);
// Alerts and self-protection: a few tries, and never a reason to fail the run.
const aftermath = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 3 } });

/** The failure type a run ends with, by the kind of trouble that stopped it. */
const RUN_FAILURE_TYPES: Record<FailureKind, string> = {
  misconfigured: MISCONFIGURED_FAILURE,
  unavailable: UNAVAILABLE_FAILURE,
  transient: 'RunFailed',
  stopped: 'RunStopped',
};

const attributes = {
  outcome: defineSearchAttributeKey(SEARCH_ATTRIBUTES.outcome, SearchAttributeType.KEYWORD),
  rejectedRows: defineSearchAttributeKey(SEARCH_ATTRIBUTES.rejectedRows, SearchAttributeType.INT),
  result: defineSearchAttributeKey(SEARCH_ATTRIBUTES.result, SearchAttributeType.TEXT),
};

/** Why a run stopped early: the reason is already public (activities build failures from ids and configuration). */
interface Stop {
  kind: FailureKind;
  reason: string;
}

function stopOf(error: unknown): Stop {
  if (error instanceof ActivityFailure && error.cause instanceof ApplicationFailure) {
    const kind: FailureKind =
      error.cause.type === MISCONFIGURED_FAILURE ? 'misconfigured' : error.cause.type === UNAVAILABLE_FAILURE ? 'unavailable' : 'transient';
    return { kind, reason: error.cause.message };
  }
  if (error instanceof ActivityFailure) return { kind: 'transient', reason: `${error.activityType} did not complete: ${error.cause?.message ?? error.message}` };
  return { kind: 'transient', reason: error instanceof Error ? error.message : String(error) };
}

/**
 * Sends ledger entries with bounded concurrency; stops dispatching once a send says the run cannot
 * go on. Every promise created in workflow code costs a stack-trace capture (the SDK records them
 * for the UI's stack trace view), and a run creates them per row: so a send is one activity promise
 * and one `then`, and the loop waits only when every slot is taken.
 */
class Dispatcher {
  inFlight = 0;
  stop: Stop | undefined;

  constructor(
    private readonly run: RunState,
    private readonly onChange: () => void,
  ) {}

  get full(): boolean {
    return this.inFlight >= this.run.concurrency && this.stop === undefined;
  }

  /** Resolves when a slot is free or the run has stopped; call only when `full`. */
  slot(): Promise<void> {
    return condition(() => !this.full);
  }

  drained(): Promise<void> {
    return condition(() => this.inFlight === 0);
  }

  dispatch(entryId: number): void {
    this.inFlight++;
    void sending.sendInvitation({ runId: this.run.runId, entryId }).then(this.settled, this.failed);
  }

  private readonly settled = (outcome: SendOutcome): void => {
    if (outcome === 'sent') this.run.counts.sent++;
    else if (outcome === 'rejected') this.run.counts.rejected++;
    this.release();
  };

  /** Recorded on the ledger row as 'failed'; only a run-wide reason stops the others. */
  private readonly failed = (error: unknown): void => {
    this.run.counts.failed++;
    const stop = stopOf(error);
    if (stop.kind === 'misconfigured' || stop.kind === 'unavailable') this.stop ??= stop;
    this.release();
  };

  private release(): void {
    this.inFlight--;
    this.onChange();
  }
}

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
