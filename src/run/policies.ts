/**
 * Retry and batching policies: the one place they are defined. Workflow code imports them for
 * its activity options, activities for the delays they ask for; plain constants only.
 */

/** Ledger rows per claim: one activity builds this many invitations before they are sent. */
export const CLAIM_BATCH_SIZE = 500;

/** One invitation's retries within a run; rows still failing wait for the next run. */
export const SEND_RETRY = {
  initialIntervalMs: 2_000,
  maximumIntervalMs: 60_000,
  backoffCoefficient: 2,
  // About five minutes of backoff: a short outage or 429 storm is ridden out within the run.
  maximumAttempts: 10,
} as const;

/** Bookkeeping (Postgres) retries: through a database restart, but not forever. */
export const BOOKKEEPING_RETRY = {
  initialIntervalMs: 1_000,
  maximumIntervalMs: 30_000,
  backoffCoefficient: 2,
  // 1+2+4+8+16+30×4 s ≈ 2.5 minutes of database trouble before the run fails with the reason.
  maximumAttempts: 9,
} as const;

/** Reading the warehouse: a lost connection is retried a few times; a bad query is not retried at all. */
export const DETECTION_RETRY = {
  initialIntervalMs: 5_000,
  maximumIntervalMs: 60_000,
  backoffCoefficient: 2,
  maximumAttempts: 4,
} as const;

/** Heartbeats of long activities (sends waiting for a pacing slot, scans streaming a segment). */
// A dead worker's sends are retried elsewhere within ten seconds; the SDK throttles heartbeats to
// 80% of the timeout anyway, so a live worker reports at most every eight seconds.
export const HEARTBEAT_EVERY_MS = 3_000;
export const HEARTBEAT_TIMEOUT_MS = 10_000;

/** Exponential backoff with full jitter, so that rows failing together do not retry in lockstep. */
export function sendBackoffMs(attempt: number, random: () => number): number {
  const ceiling = Math.min(SEND_RETRY.maximumIntervalMs, SEND_RETRY.initialIntervalMs * SEND_RETRY.backoffCoefficient ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
