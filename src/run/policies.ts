/**
 * How a run's activities are timed, retried and batched: the one place these numbers are defined.
 * The workflow builds its activity options from them (workflows/activity-options.ts), the
 * activities the delays they ask for. Plain constants and pure arithmetic only: workflow code
 * imports this module, so nothing here may do I/O or read a clock.
 *
 * How a send is retried, from the innermost level out:
 *
 * 1. Within an attempt: Trustpilot accepted the invitation but the `sent` record failed (the app
 *    database restarting). Losing that record would send the invitation again, so the write is
 *    retried in place (RECORD_SENT_RETRY), heartbeating, for about a minute.
 * 2. Within the run: Temporal retries a failed attempt up to SEND_RETRY.maximumAttempts times, after
 *    the delay the attempt asked for: Trustpilot's Retry-After when it sent one, else sendBackoffMs
 *    (2 s doubling to 60 s, with jitter). A row still held by an earlier attempt is looked at again
 *    after SEND_CONTENDED_RETRY_MS. Failures that name no delay (the app database, a worker that
 *    died, noticed by SEND_ACTIVITY.heartbeatTimeoutMs) take SEND_RETRY's own backoff.
 * 3. Across runs: a row whose attempts are spent stays 'failed' in the ledger and is handed to each
 *    later run of its activation, up to the activation's `maxRunsForFailedRows` (configuration,
 *    default 5, src/domain/config.ts); then it is 'abandoned' until an operator requeues it.
 * 4. The circuit breaker: the destination's `circuitBreaker.failuresInARow` (configuration, default
 *    20) calls in a row that make Trustpilot look down (5xx, timeouts, lost connections) stop the
 *    run's sending as 'unavailable'; its unsent rows wait for the next run. A 429 leaves the count
 *    as it is; any other answer from Trustpilot resets it.
 *
 * What each Trustpilot answer leads to (ledger status, in doubt or not, retried or stopping the run)
 * is decided in one pure function: activities/send-outcome.ts. Pacing is not a retry: its numbers
 * live with the pacer (db/pacing.ts) and the send's wait for its slot (activities/send-pacing.ts).
 */

const SECOND_MS = 1_000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;

/** A retry schedule: exponential backoff from `initialIntervalMs`, capped, and a bound on attempts. */
export interface RetrySchedule {
  initialIntervalMs: number;
  maximumIntervalMs: number;
  backoffCoefficient: number;
  /** attempts in all, the first included */
  maximumAttempts: number;
}

/** How long an activity may take, and (for long ones) how soon a silent one is given up on. */
export interface ActivityPolicy {
  startToCloseTimeoutMs: number;
  heartbeatTimeoutMs?: number;
  retry: RetrySchedule;
}

/** Ledger rows per claim: one activity builds this many invitations before they are sent. */
export const CLAIM_BATCH_SIZE = 500;

/** One invitation's attempts within a run; rows still failing wait for the next run. */
export const SEND_RETRY: RetrySchedule = {
  initialIntervalMs: 2 * SECOND_MS,
  maximumIntervalMs: MINUTE_MS,
  backoffCoefficient: 2,
  // Nine waits of at most 2+4+8+16+32+60×4 s, about five minutes: a short outage or 429 storm is
  // ridden out within the run.
  maximumAttempts: 10,
};

/** A row found 'sending' by another attempt that may still be calling: look again after this long. */
export const SEND_CONTENDED_RETRY_MS = 5 * SECOND_MS;

/** The `sent` record after Trustpilot accepted: 250 ms doubling to 5 s, about a minute of database outage in all. */
export const RECORD_SENT_RETRY: RetrySchedule = {
  initialIntervalMs: 250,
  maximumIntervalMs: 5 * SECOND_MS,
  backoffCoefficient: 2,
  maximumAttempts: 16,
};

/** Bookkeeping (Postgres) retries: through a database restart, but not forever. */
export const BOOKKEEPING_RETRY: RetrySchedule = {
  initialIntervalMs: SECOND_MS,
  maximumIntervalMs: 30 * SECOND_MS,
  backoffCoefficient: 2,
  // Eight waits, 1+2+4+8+16+30×3 s ≈ 2 minutes of database trouble, before the run fails with the reason.
  maximumAttempts: 9,
};

/**
 * Reading the warehouse, by the scan (detectNewRows) and by the claims that read new rows' data
 * (claimBatch): a lost connection is retried a few times; a bad query is not retried at all.
 */
export const WAREHOUSE_READ_RETRY: RetrySchedule = {
  initialIntervalMs: 5 * SECOND_MS,
  maximumIntervalMs: MINUTE_MS,
  backoffCoefficient: 2,
  maximumAttempts: 4,
};

/** Heartbeats of long activities (sends waiting for a pacing slot, scans streaming a segment). */
// A dead worker's sends are retried elsewhere within ten seconds; the SDK throttles heartbeats to
// 80% of the timeout anyway, so a live worker reports at most every eight seconds.
export const HEARTBEAT_EVERY_MS = 3 * SECOND_MS;
export const HEARTBEAT_TIMEOUT_MS = 10 * SECOND_MS;

/** startRun, runSummary, finishRun: Postgres only, through a restart, within a bound. */
export const BOOKKEEPING_ACTIVITY: ActivityPolicy = { startToCloseTimeoutMs: 2 * MINUTE_MS, retry: BOOKKEEPING_RETRY };

/**
 * detectNewRows and claimBatch: bounded by the activation's statement timeout (at most 6 hours);
 * the heartbeat notices a dead worker long before.
 */
export const WAREHOUSE_READ_ACTIVITY: ActivityPolicy = { startToCloseTimeoutMs: 7 * HOUR_MS, heartbeatTimeoutMs: MINUTE_MS, retry: WAREHOUSE_READ_RETRY };

/**
 * sendInvitation, one per row. Long enough for a far pacing slot when many activations share one
 * API key; a dead worker is noticed by the heartbeat timeout, not this one.
 */
export const SEND_ACTIVITY: ActivityPolicy = { startToCloseTimeoutMs: 10 * MINUTE_MS, heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS, retry: SEND_RETRY };

/** afterRun (alerts, auto-pause): a few tries at Temporal's default backoff, and never a reason to fail the run. */
export const AFTER_RUN_ACTIVITY = { startToCloseTimeoutMs: MINUTE_MS, retry: { maximumAttempts: 3 } } as const;

/** Exponential backoff with full jitter, so that rows failing together do not retry in lockstep. */
export function sendBackoffMs(attempt: number, random: () => number): number {
  const ceiling = backoffCeilingMs(SEND_RETRY, attempt);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** The wait after the `attempt`th failure of a schedule, before any jitter. */
export function backoffCeilingMs(schedule: RetrySchedule, attempt: number): number {
  return Math.min(schedule.maximumIntervalMs, schedule.initialIntervalMs * schedule.backoffCoefficient ** Math.max(0, attempt - 1));
}
