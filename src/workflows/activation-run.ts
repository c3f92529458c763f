import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  continueAsNew,
  defineQuery,
  log,
  setCurrentDetails,
  setHandler,
  proxyActivities,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import {
  MISCONFIGURED_FAILURE,
  type ActivationRunInput,
  type ActivationRunProgress,
  PROGRESS_QUERY,
  type RunProgress,
  type RunSummary,
} from './types.ts';

export const progressQuery = defineQuery<RunProgress>(PROGRESS_QUERY);

// Bookkeeping talks to Postgres only: retry until it comes back (a restart must not fail the run).
const bookkeeping = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes: [MISCONFIGURED_FAILURE] },
});

// One invitation per activity. Retries here cover transient trouble within a run; rows still
// failing afterwards stay 'failed' in the ledger and are tried again by later runs.
const sending = proxyActivities<Activities>({
  // Long enough for a far pacing slot when many activations share one API key; a dead worker is
  // noticed by the heartbeat timeout, not this one.
  startToCloseTimeout: '10 minutes',
  // sendInvitation heartbeats every few seconds, even mid-call: a worker killed mid-send is noticed
  // (and its rows retried) after this long, not after startToClose.
  heartbeatTimeout: '20 seconds',
  retry: {
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    // About five minutes of backoff: a short outage or 429 storm is ridden out within the run.
    maximumAttempts: 10,
    nonRetryableErrorTypes: [MISCONFIGURED_FAILURE],
  },
});

function failureType(error: unknown): string | undefined {
  if (error instanceof ActivityFailure && error.cause instanceof ApplicationFailure) return error.cause.type ?? undefined;
  return undefined;
}

function failureMessage(error: unknown): string {
  if (error instanceof ActivityFailure && error.cause) return error.cause.message;
  return error instanceof Error ? error.message : String(error);
}

export async function activationRun(input: ActivationRunInput): Promise<RunSummary> {
  let progress: ActivationRunProgress;
  let concurrency: number;
  if (input.resume) {
    progress = { ...input.resume, executions: input.resume.executions + 1 };
    concurrency = (await bookkeeping.runConcurrency(progress.runId)).concurrency;
  } else {
    const started = await bookkeeping.startRun({ activationId: input.activationId, workflowId: workflowInfo().workflowId });
    if (started.skipped) {
      log.info('Run skipped', { activationId: input.activationId, reason: started.skipped.reason });
      return await bookkeeping.runSummary(started.runId);
    }
    progress = { runId: started.runId, phase: 'retry', retryAfterId: 0, page: 0, executions: 1 };
    concurrency = started.concurrency;
  }
  const { runId } = progress;

  let inFlight = 0;
  let dispatched = 0;
  let finishing = false;
  let misconfigured: string | undefined;
  const currentProgress = (): RunProgress => ({
    runId,
    phase: finishing ? 'finishing' : progress.phase,
    page: progress.page,
    execution: progress.executions,
    dispatched,
    inFlight,
    misconfigured: misconfigured ?? null,
  });
  setHandler(progressQuery, currentProgress);
  // Shown on the run's page in the Temporal UI.
  const showProgress = () =>
    setCurrentDetails(
      `Run ${runId}: ${finishing ? 'finishing' : progress.phase === 'retry' ? 'retrying earlier failures' : `source page ${progress.page}`}, ` +
        `${dispatched} invitation(s) dispatched in this execution (#${progress.executions}), ${inFlight} in flight`,
    );
  const dispatch = async (entryId: number): Promise<void> => {
    inFlight++;
    dispatched++;
    if (dispatched % 50 === 1) showProgress();
    try {
      await sending.sendInvitation({ runId, entryId });
    } catch (error) {
      if (failureType(error) === MISCONFIGURED_FAILURE) {
        misconfigured ??= failureMessage(error);
      }
      // Any other failure is already recorded on the ledger row as 'failed'; the run goes on.
    } finally {
      inFlight--;
    }
  };
  /** Dispatches ids with bounded concurrency; returns those left when history asks to continue as new. */
  const sendAll = async (entryIds: readonly number[]): Promise<number[]> => {
    for (let index = 0; index < entryIds.length; index++) {
      await condition(() => inFlight < concurrency || misconfigured !== undefined);
      if (misconfigured !== undefined) return [];
      if (workflowInfo().continueAsNewSuggested) return entryIds.slice(index);
      void dispatch(entryIds[index] as number);
    }
    return [];
  };
  /** Drains what is in flight, then continues as new carrying the progress (ids and counters only). */
  const continueWith = async (pendingEntryIds: number[]): Promise<void> => {
    await condition(() => inFlight === 0);
    if (misconfigured === undefined) {
      await continueAsNew<typeof activationRun>({
        activationId: input.activationId,
        resume: { ...progress, pendingEntryIds },
      });
    }
  };

  try {
    const carried = progress.pendingEntryIds ?? [];
    progress.pendingEntryIds = undefined;
    const left = await sendAll(carried);
    if (left.length > 0) await continueWith(left);
    for (;;) {
      if (misconfigured !== undefined) break;
      let claim;
      if (progress.phase === 'retry') {
        claim = await bookkeeping.claimRetries({ runId, afterId: progress.retryAfterId });
        if (claim.entryIds.length > 0) progress.retryAfterId = claim.entryIds.at(-1) ?? progress.retryAfterId;
        if (claim.done) progress.phase = 'scan';
      } else {
        claim = await bookkeeping.claimNewRows({ runId, page: progress.page + 1 });
        progress.page++;
      }
      const remaining = await sendAll(claim.entryIds);
      if (remaining.length > 0) await continueWith(remaining);
      if (progress.phase === 'scan' && claim.done && progress.page > 0) break;
      if (workflowInfo().continueAsNewSuggested) await continueWith([]);
    }
  } catch (error) {
    // A source that cannot be read as configured (missing table, bad SQL) ends the run, not retries it.
    if (failureType(error) !== MISCONFIGURED_FAILURE) throw error;
    misconfigured ??= failureMessage(error);
  }
  await condition(() => inFlight === 0);
  finishing = true;
  showProgress();

  if (misconfigured !== undefined) {
    await bookkeeping.finishRun({ runId, outcome: 'failed', error: misconfigured });
    throw ApplicationFailure.nonRetryable(misconfigured, MISCONFIGURED_FAILURE);
  }
  return await bookkeeping.finishRun({ runId, outcome: 'succeeded' });
}
