import type { ActivityOptions, RetryPolicy } from '@temporalio/workflow';
import { AFTER_RUN_ACTIVITY, BOOKKEEPING_ACTIVITY, SEND_ACTIVITY, WAREHOUSE_READ_ACTIVITY, type ActivityPolicy, type RetrySchedule } from '../run/policies.ts';
import { MISCONFIGURED_FAILURE, UNAVAILABLE_FAILURE } from '../run/types.ts';

/**
 * The run's activity options, as Temporal takes them; every number comes from run/policies.ts,
 * where the reasons for them are given.
 */

/** Failures that retrying cannot fix end the activity at once, whatever its policy. */
function retryPolicy(schedule: RetrySchedule): RetryPolicy {
  return {
    initialInterval: schedule.initialIntervalMs,
    maximumInterval: schedule.maximumIntervalMs,
    backoffCoefficient: schedule.backoffCoefficient,
    maximumAttempts: schedule.maximumAttempts,
    nonRetryableErrorTypes: [MISCONFIGURED_FAILURE, UNAVAILABLE_FAILURE],
  };
}

function optionsOf(policy: ActivityPolicy): ActivityOptions {
  return {
    startToCloseTimeout: policy.startToCloseTimeoutMs,
    ...(policy.heartbeatTimeoutMs === undefined ? {} : { heartbeatTimeout: policy.heartbeatTimeoutMs }),
    retry: retryPolicy(policy.retry),
  };
}

/** startRun, runSummary, finishRun. */
export const BOOKKEEPING = optionsOf(BOOKKEEPING_ACTIVITY);
/** detectNewRows, claimBatch. */
export const READING = optionsOf(WAREHOUSE_READ_ACTIVITY);
/** sendInvitation: rows still failing after its retries stay 'failed' in the ledger for later runs. */
export const SENDING = optionsOf(SEND_ACTIVITY);
/** afterRun: Temporal's default backoff, and no failure type ends it sooner. */
export const AFTERMATH: ActivityOptions = {
  startToCloseTimeout: AFTER_RUN_ACTIVITY.startToCloseTimeoutMs,
  retry: { maximumAttempts: AFTER_RUN_ACTIVITY.retry.maximumAttempts },
};
