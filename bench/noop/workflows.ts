import { condition, proxyActivities } from '@temporalio/workflow';

const { noop } = proxyActivities<{ noop(input: { runId: number; entryId: number }): Promise<string> }>({
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: '20 seconds',
  retry: { maximumAttempts: 10 },
});

/** The ceiling for one activity per row on this server: the same shape of calls as a run, doing nothing. */
export async function noopRun(input: { count: number; concurrency: number }): Promise<number> {
  let inFlight = 0;
  let done = 0;
  for (let entryId = 1; entryId <= input.count; entryId++) {
    await condition(() => inFlight < input.concurrency);
    inFlight++;
    void noop({ runId: 1, entryId }).then(() => {
      inFlight--;
      done++;
    });
  }
  await condition(() => inFlight === 0);
  return done;
}
