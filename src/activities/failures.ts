import { ApplicationFailure } from '@temporalio/activity';
import { MISCONFIGURED_FAILURE } from '../workflows/types.ts';

/** The activation cannot work as configured; retrying rows would only repeat the same error. */
export function misconfigured(message: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type: MISCONFIGURED_FAILURE, nonRetryable: true });
}

// Postgres error classes that mean "the source as configured cannot be read", not "try again":
// data exceptions (22), syntax or access rules (42), a missing schema (3F), a write in a read-only
// transaction (25006). Connection trouble (08, 57P) and timeouts stay retryable.
const SOURCE_CONFIG_CLASSES = ['22', '42', '3F'];
const SOURCE_CONFIG_CODES = new Set(['25006']);

export function isSourceConfigError(error: unknown): error is Error & { code: string } {
  if (!(error instanceof Error) || !('code' in error) || typeof error.code !== 'string') return false;
  return SOURCE_CONFIG_CODES.has(error.code) || SOURCE_CONFIG_CLASSES.includes(error.code.slice(0, 2));
}

/** What an operator is told about a source error: data exceptions (class 22) quote cell values, so only their code goes out. */
export function describeSourceError(error: Error & { code: string }): string {
  if (error.code.startsWith('22')) return `a value in the source does not fit the query (SQLSTATE ${error.code})`;
  return `${error.message} (SQLSTATE ${error.code})`;
}
