import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { ActivityInterceptors } from '@temporalio/worker';
import { redact } from '../trustpilot/index.ts';

/**
 * Rewrites what an activity failure carries into Temporal history, where every operator with UI
 * access reads it: the message loses email addresses and token-like strings, and foreign errors
 * (a database error quoting a row's value, say) lose their stack and cause. Type, retryability
 * and retry delay are kept, so the workflow reacts exactly as before.
 */
export function redactedFailure(error: unknown): unknown {
  if (error instanceof CancelledFailure) return error;
  if (error instanceof ApplicationFailure) {
    return ApplicationFailure.create({
      message: redact(error.message),
      type: error.type ?? undefined,
      nonRetryable: error.nonRetryable ?? false,
      // The SDK's Duration type comes from `ms`, whose types the linter cannot see through.
      // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment
      nextRetryDelay: error.nextRetryDelay ?? undefined,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return ApplicationFailure.create({
    message: redact(message),
    type: error instanceof Error ? error.constructor.name : 'Error',
  });
}

export function redactFailuresInterceptor(): ActivityInterceptors {
  return {
    inbound: {
      async execute(input, next) {
        try {
          return await next(input);
        } catch (error) {
          throw redactedFailure(error);
        }
      },
    },
  };
}
