import { ApplicationFailure } from '@temporalio/activity';
import { PublicError } from '../domain/public-error.ts';
import { isSqlState } from '../domain/sqlstate.ts';
import type { SourceError } from '../source/errors.ts';
import { isTrustpilotError } from '../trustpilot/index.ts';
import { MISCONFIGURED_FAILURE, OTHER_DEPLOYMENT_FAILURE, SEND_FAILED_FAILURE, UNAVAILABLE_FAILURE } from '../run/types.ts';

/** The activation cannot work as configured; retrying would only repeat the same error. */
export function misconfigured(message: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type: MISCONFIGURED_FAILURE, nonRetryable: true });
}

/**
 * The task belongs to a run of another deployment (another app database) whose workers share this
 * task queue: this worker refuses it, and Temporal retries it, on any worker, within the
 * activity's bound. Acting on it would read or write this database for that run.
 */
export function otherDeployment(what: string): ApplicationFailure {
  return ApplicationFailure.create({
    message: `${what}: two deployments (app databases) serve the same task queue; give each its own TEMPORAL_TASK_QUEUE or namespace`,
    type: OTHER_DEPLOYMENT_FAILURE,
  });
}

/** Trustpilot keeps failing: sending stops for this run, the rows wait for the next one. */
export function unavailable(message: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type: UNAVAILABLE_FAILURE, nonRetryable: true });
}

/** This invitation's attempt failed; Temporal tries it again after `delayMs`, within the send's retry policy. */
export function sendFailed(message: string, delayMs: number): ApplicationFailure {
  return ApplicationFailure.create({ message, type: SEND_FAILED_FAILURE, nextRetryDelay: delayMs });
}

/** A warehouse problem: permanent ones end the run at once, transient ones are retried within the activity's bound. */
export function sourceFailure(error: SourceError): ApplicationFailure {
  if (error.kind === 'permanent') return misconfigured(error.message);
  return ApplicationFailure.create({ message: error.message, type: 'WarehouseUnavailable' });
}

const SYSTEM_ERROR = /^E[A-Z]+$/;

/**
 * What any error may say in Temporal history, the worker log or a run's reason. Only messages
 * built from configuration and ids pass; a database error says its SQLSTATE, a system error its
 * code, anything else its type: their messages may quote a row's value (a unique violation
 * quotes the key, a parse error the text it choked on).
 */
export function publicMessageOf(error: unknown): string {
  if (error instanceof ApplicationFailure || error instanceof PublicError || isTrustpilotError(error)) return (error as Error).message;
  if (error instanceof Error) {
    const code = 'code' in error && typeof error.code === 'string' ? error.code : undefined;
    if (isSqlState(code)) return `database error (SQLSTATE ${code})`;
    if (code !== undefined && SYSTEM_ERROR.test(code)) return `${error.name} ${code}`;
    return `unexpected ${error.name}`;
  }
  return `unexpected ${typeof error}`;
}
