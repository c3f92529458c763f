import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import { MISCONFIGURED_FAILURE, UNAVAILABLE_FAILURE, type FailureKind } from '../run/types.ts';

/** Why a run stopped early: the reason is already public (activities build failures from ids and configuration). */
export interface Stop {
  kind: FailureKind;
  reason: string;
}

/** The failure type a run ends with, by the kind of trouble that stopped it. */
export const RUN_FAILURE_TYPES: Record<FailureKind, string> = {
  misconfigured: MISCONFIGURED_FAILURE,
  unavailable: UNAVAILABLE_FAILURE,
  transient: 'RunFailed',
  stopped: 'RunStopped',
};

export function stopOf(error: unknown): Stop {
  if (error instanceof ActivityFailure && error.cause instanceof ApplicationFailure) {
    const kind: FailureKind =
      error.cause.type === MISCONFIGURED_FAILURE ? 'misconfigured' : error.cause.type === UNAVAILABLE_FAILURE ? 'unavailable' : 'transient';
    return { kind, reason: error.cause.message };
  }
  if (error instanceof ActivityFailure) return { kind: 'transient', reason: `${error.activityType} did not complete: ${error.cause?.message ?? error.message}` };
  return { kind: 'transient', reason: error instanceof Error ? error.message : String(error) };
}
