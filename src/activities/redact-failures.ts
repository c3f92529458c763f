import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { ActivityInterceptors } from '@temporalio/worker';
import { publicMessageOf } from './failures.ts';

/**
 * Rewrites what an activity failure carries into Temporal history, where every operator with UI
 * access reads it: only a public message (see publicMessageOf), no stack and no cause, which could
 * carry a foreign error's text. Type, retryability and retry delay are kept, so the workflow reacts
 * exactly as before.
 */
export function redactedFailure(error: unknown): unknown {
  if (error instanceof CancelledFailure) return error;
  if (error instanceof ApplicationFailure) {
    return ApplicationFailure.create({
      message: error.message,
      nonRetryable: error.nonRetryable ?? false,
      // Left out, not set to undefined, when the failure has none (the options type is exact).
      ...(error.type != null ? { type: error.type } : {}),
      // The SDK's Duration type comes from `ms`, whose types the linter cannot see through.
      // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment
      ...(error.nextRetryDelay != null ? { nextRetryDelay: error.nextRetryDelay } : {}),
    });
  }
  return ApplicationFailure.create({ message: publicMessageOf(error), type: error instanceof Error ? error.name : 'Error' });
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
