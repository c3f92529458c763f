import { condition, continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';

const { noop } = proxyActivities<{ noop(input: { runId: number; entryId: number }): Promise<string> }>({
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: '20 seconds',
  retry: { maximumAttempts: 10 },
});

export interface NoopRunInput {
  count: number;
  concurrency: number;
  /** where a continued execution resumes, and what the earlier ones completed */
  nextEntryId?: number;
  done?: number;
}

/**
 * The ceiling for one activity per row on this server: the same shape of calls as a run, doing
 * nothing, continuing as new when the server suggests it, as a run does (20k rows would otherwise
 * exceed the history limit).
 */
export async function noopRun(input: NoopRunInput): Promise<number> {
  let inFlight = 0;
  let done = input.done ?? 0;
  for (let entryId = input.nextEntryId ?? 1; entryId <= input.count; entryId++) {
    if (workflowInfo().continueAsNewSuggested) {
      await condition(() => inFlight === 0);
      return await continueAsNew<typeof noopRun>({ ...input, nextEntryId: entryId, done });
    }
    // Waits only when every slot is taken, as a run does: a promise in workflow code is not free.
    if (inFlight >= input.concurrency) await condition(() => inFlight < input.concurrency);
    inFlight++;
    void noop({ runId: 1, entryId }).then(() => {
      inFlight--;
      done++;
    });
  }
  await condition(() => inFlight === 0);
  return done;
}
