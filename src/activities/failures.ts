import { ApplicationFailure } from '@temporalio/activity';
import { MISCONFIGURED_FAILURE } from '../workflows/types.ts';

/** The activation cannot work as configured; retrying rows would only repeat the same error. */
export function misconfigured(message: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type: MISCONFIGURED_FAILURE, nonRetryable: true });
}

// Postgres error classes that mean "the source as configured cannot be read", not "try again".
const SOURCE_CONFIG_SQLSTATES = new Set(['42P01', '42703', '42601', '42501', '3F000', '42883', '42804', '22P02', '25006']);

export function isSourceConfigError(error: unknown): error is Error & { code: string } {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' && SOURCE_CONFIG_SQLSTATES.has(error.code);
}
