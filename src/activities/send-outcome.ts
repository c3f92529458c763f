import type { FailedCall, Taken } from '../db/ledger-sending.ts';
import { healthOf, isTrustpilotError, mayHaveBeenAccepted, type TrustpilotError } from '../trustpilot/index.ts';
import { SEND_CONTENDED_RETRY_MS, sendBackoffMs } from '../run/policies.ts';
import type { SendOutcome } from '../run/types.ts';
import type { InvitationOutcome } from './metrics.ts';

/**
 * What one send decides, and why, in one pure function: the send activity (send.ts) only carries
 * the decision out. Every Trustpilot answer class and what it leads to is listed in the unit test
 * table (test/unit/send-outcome.test.ts); the retry numbers are in run/policies.ts.
 */

/** Why the row was not taken for sending. */
export type RefusedTake = Exclude<Taken['kind'], 'taken'>;

/** How a send's step ended, when it ends the send. */
export type StepOutcome =
  /** no access token: nothing was sent and the row was not taken */
  | { step: 'authenticate'; failure: unknown }
  | { step: 'take'; taken: RefusedTake }
  | { step: 'call'; accepted: true }
  | { step: 'call'; accepted: false; failure: unknown };

export interface DecisionContext {
  entryId: number;
  activationId: string;
  /** Temporal's attempt number of this send, from 1 */
  attempt: number;
  /** the destination's circuitBreaker.failuresInARow */
  breakerLimit: number;
  /** jitter for the backoff; Math.random in the activity */
  random: () => number;
}

/** What the ledger row records: 'sent', or the failure (see FailedCall). */
export type LedgerWrite = { status: 'sent' } | FailedCall;

/** How the activity ends. */
export type SendResult =
  | { kind: 'return'; value: SendOutcome }
  /** fail this attempt; Temporal tries again after `delayMs` (within SEND_RETRY's attempts) */
  | { kind: 'retry'; delayMs: number; message: string }
  /** fail the send for good and stop the run's sending, for a reason every other row shares */
  | StopResult
  /** the failure as it came: a cancellation is Temporal's to report, and an unknown error keeps its type for the retry policy */
  | { kind: 'rethrow'; error: unknown };

export interface StopResult {
  kind: 'stop';
  failure: 'misconfigured' | 'unavailable';
  message: string;
}

export interface SendDecision {
  /** written before the activity ends; null when the row was never taken (no token, or the take refused it) */
  ledger: LedgerWrite | null;
  /** the invitations metric's outcome; null when no call was made or its end is unknown */
  metric: InvitationOutcome | null;
  /** how the activity ends, unless the circuit breaker trips */
  result: SendResult;
  /** no row was taken, but the failure counts towards the run's circuit breaker */
  runDown?: boolean;
  /**
   * Set when this failure counts towards the run's circuit breaker: when the count the ledger
   * write returns has reached `limit`, the run stops instead (see resultAfterRecording).
   */
  breaker?: { limit: number; stop: StopResult };
}

/**
 * The ledger row, the metric and the activity's end for a step's outcome. Pure: it reads only its
 * arguments (the jitter comes in through `context.random`).
 */
export function decideSendOutcome(outcome: StepOutcome, context: DecisionContext): SendDecision {
  switch (outcome.step) {
    case 'authenticate': {
      // Nothing was sent: the ledger row keeps its state; only the run's reaction differs. A token
      // endpoint that is down counts towards the circuit breaker as a failed call does.
      const { failure } = outcome;
      if (!isTrustpilotError(failure)) return { ledger: null, metric: null, result: rethrow(failure) };
      const down = healthOf(failure) === 'down';
      return {
        ledger: null,
        metric: null,
        result: retryOrStop(failure, context),
        ...(down
          ? { runDown: true, breaker: { limit: context.breakerLimit, stop: { kind: 'stop', failure: 'unavailable', message: `${breakerReason(context)}; the last: ${failure.message}` } } }
          : {}),
      };
    }
    case 'take':
      return { ledger: null, metric: null, result: afterRefusedTake(outcome.taken, context) };
    case 'call':
      if (outcome.accepted) return { ledger: { status: 'sent' }, metric: 'sent', result: { kind: 'return', value: 'sent' } };
      return afterFailedCall(outcome.failure, context);
  }
}

/** The decision's result once its ledger write is done: `failuresInARow` is the run's count that write returned. */
export function resultAfterRecording(decision: SendDecision, failuresInARow: number): SendResult {
  return decision.breaker && failuresInARow >= decision.breaker.limit ? decision.breaker.stop : decision.result;
}

function afterRefusedTake(taken: RefusedTake, context: DecisionContext): SendResult {
  switch (taken) {
    case 'already_sent':
    case 'not_sendable':
      return { kind: 'return', value: taken };
    case 'breaker_open':
      return { kind: 'stop', failure: 'unavailable', message: breakerReason(context) };
    case 'contended':
      return {
        kind: 'retry',
        delayMs: SEND_CONTENDED_RETRY_MS,
        message: `Ledger entry ${context.entryId} is being sent by another attempt; checking it again`,
      };
  }
}

function afterFailedCall(failure: unknown, context: DecisionContext): SendDecision {
  if (!isTrustpilotError(failure)) {
    // Not an answer: the call was cancelled mid-way (the run was stopped, the activity timed out), and may have gone through.
    return {
      ledger: { status: 'failed', errorClass: 'interrupted', message: 'the call was interrupted', inDoubt: true, health: 'unknown' },
      metric: null,
      result: rethrow(failure),
    };
  }
  if (failure.kind === 'rejected') {
    return {
      ledger: { status: 'rejected', errorClass: 'rejected_by_trustpilot', message: failure.message, inDoubt: false, health: 'answered' },
      metric: 'rejected',
      result: { kind: 'return', value: 'rejected' },
    };
  }
  // A misconfigured activation leaves the row itself fine: it is kept, 'failed', for the next run.
  const health = healthOf(failure);
  const inDoubt = mayHaveBeenAccepted(failure);
  return {
    ledger: { status: 'failed', errorClass: failure.kind, message: failure.message, inDoubt, health },
    metric: inDoubt ? 'in_doubt' : 'failed',
    result: retryOrStop(failure, context),
    ...(health === 'down'
      ? { breaker: { limit: context.breakerLimit, stop: { kind: 'stop', failure: 'unavailable', message: `${breakerReason(context)}; the last: ${failure.message}` } } }
      : {}),
  };
}

/** How a Trustpilot failure steers Temporal: stop the run, or retry after Retry-After / backoff. */
function retryOrStop(error: TrustpilotError, context: DecisionContext): SendResult {
  if (error.kind === 'misconfigured') return { kind: 'stop', failure: 'misconfigured', message: error.hint ? `${error.message}. ${error.hint}` : error.message };
  return { kind: 'retry', delayMs: error.retryAfterMs ?? sendBackoffMs(context.attempt, context.random), message: error.message };
}

function rethrow(error: unknown): SendResult {
  return { kind: 'rethrow', error };
}

function breakerReason(context: DecisionContext): string {
  return `Trustpilot failed ${context.breakerLimit} times in a row for activation '${context.activationId}' (server errors, timeouts or lost connections): sending stopped; the unsent rows wait for the next run`;
}
