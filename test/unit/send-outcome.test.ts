import { CancelledFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { decideSendOutcome, resultAfterRecording, type SendDecision, type StepOutcome } from '../../src/activities/send-outcome.ts';
import { classifyResponse, classifyTransportFailure } from '../../src/trustpilot/index.ts';
import { timeoutError } from '../../src/trustpilot/transport-errors.ts';
import { destinationConfigSchema } from '../../src/domain/index.ts';
import { activationConfigSchema } from '../../src/domain/config.ts';
import { SEND_CONTENDED_RETRY_MS, sendBackoffMs } from '../../src/run/policies.ts';

/**
 * What a send does with each answer Trustpilot can give, one row per answer class: the ledger row
 * (status, error class, in doubt, what it says of Trustpilot's health), the invitations metric,
 * and how the activity ends. The errors are built by the client's own classifiers, as a call
 * would get them.
 */

const CONTEXT = { entryId: 7, activationId: 'orders', attempt: 3, breakerLimit: 5, random: () => 0.5 };
const BACKOFF = sendBackoffMs(CONTEXT.attempt, CONTEXT.random);
const INVITATION = { subject: 'the invitation', mayHaveSideEffects: true, businessUnitId: 'bu-1' } as const;

const answer = (status: number, body = '', headers: Record<string, string> = {}) => classifyResponse(status, new Headers(headers), body, INVITATION);
const transport = (code: string) => classifyTransportFailure(Object.assign(new Error(`socket ${code}`), { code }), INVITATION);
const call = (failure: unknown): StepOutcome => ({ step: 'call', accepted: false, failure });
const cancelled = new CancelledFailure('CANCELLED');

/** The decision in a line per aspect, so that the table reads as a table. */
function summary(decision: SendDecision) {
  const { ledger, metric, result, breaker } = decision;
  return {
    ledger: ledger === null ? null : ledger.status === 'sent' ? 'sent' : `${ledger.status} ${ledger.errorClass}${ledger.inDoubt ? ' in-doubt' : ''} health:${ledger.health}`,
    metric,
    result:
      result.kind === 'return'
        ? `return ${result.value}`
        : result.kind === 'retry'
          ? `retry after ${result.delayMs} ms`
          : result.kind === 'stop'
            ? `stop ${result.failure}`
            : 'rethrow',
    breaker: breaker !== undefined,
  };
}

describe('what a send does with each answer', () => {
  it.each<[string, StepOutcome, ReturnType<typeof summary>]>([
    ['2xx: accepted', { step: 'call', accepted: true }, { ledger: 'sent', metric: 'sent', result: 'return sent', breaker: false }],
    ['400: this row rejected', call(answer(400, '{"message":"Invalid email"}')), { ledger: 'rejected rejected_by_trustpilot health:answered', metric: 'rejected', result: 'return rejected', breaker: false }],
    ['422: this row rejected', call(answer(422, '{"message":"Opted out"}')), { ledger: 'rejected rejected_by_trustpilot health:answered', metric: 'rejected', result: 'return rejected', breaker: false }],
    ['401 after the token was renewed', call(answer(401)), { ledger: 'failed misconfigured health:answered', metric: 'failed', result: 'stop misconfigured', breaker: false }],
    ['403: business unit or user refused', call(answer(403, '{"errorCode":"1014"}')), { ledger: 'failed misconfigured health:answered', metric: 'failed', result: 'stop misconfigured', breaker: false }],
    ['404: wrong host or business unit', call(answer(404)), { ledger: 'failed misconfigured health:answered', metric: 'failed', result: 'stop misconfigured', breaker: false }],
    ['415: content type refused', call(answer(415)), { ledger: 'failed misconfigured health:answered', metric: 'failed', result: 'stop misconfigured', breaker: false }],
    ['429 with Retry-After', call(answer(429, '', { 'retry-after': '7' })), { ledger: 'failed retryable health:unknown', metric: 'failed', result: 'retry after 7000 ms', breaker: false }],
    ['429 without Retry-After', call(answer(429)), { ledger: 'failed retryable health:unknown', metric: 'failed', result: `retry after ${BACKOFF} ms`, breaker: false }],
    ['500 with an HTML page', call(answer(500, '<html><body><h1>Internal Server Error</h1></body></html>', { 'content-type': 'text/html' })), { ledger: 'failed retryable in-doubt health:down', metric: 'in_doubt', result: `retry after ${BACKOFF} ms`, breaker: true }],
    ['502 with an empty body', call(answer(502)), { ledger: 'failed retryable in-doubt health:down', metric: 'in_doubt', result: `retry after ${BACKOFF} ms`, breaker: true }],
    ['503 with Retry-After', call(answer(503, '', { 'retry-after': '30' })), { ledger: 'failed retryable in-doubt health:down', metric: 'in_doubt', result: 'retry after 30000 ms', breaker: true }],
    ['408: Trustpilot gave up waiting for the request', call(answer(408)), { ledger: 'failed retryable health:down', metric: 'failed', result: `retry after ${BACKOFF} ms`, breaker: true }],
    ['timeout after the request was written', call(timeoutError(INVITATION, 30_000)), { ledger: 'failed retryable in-doubt health:down', metric: 'in_doubt', result: `retry after ${BACKOFF} ms`, breaker: true }],
    ['timeout before the request was written (connecting)', call(transport('UND_ERR_CONNECT_TIMEOUT')), { ledger: 'failed retryable health:down', metric: 'failed', result: `retry after ${BACKOFF} ms`, breaker: true }],
    ['connection refused', call(transport('ECONNREFUSED')), { ledger: 'failed retryable health:down', metric: 'failed', result: `retry after ${BACKOFF} ms`, breaker: true }],
    ['host not found', call(transport('ENOTFOUND')), { ledger: 'failed retryable health:down', metric: 'failed', result: `retry after ${BACKOFF} ms`, breaker: true }],
    ['connection reset mid-call', call(transport('ECONNRESET')), { ledger: 'failed retryable in-doubt health:down', metric: 'in_doubt', result: `retry after ${BACKOFF} ms`, breaker: true }],
    ['TLS certificate not accepted', call(transport('CERT_HAS_EXPIRED')), { ledger: 'failed misconfigured health:unknown', metric: 'failed', result: 'stop misconfigured', breaker: false }],
    ['call cancelled (run stopped, activity timed out)', call(cancelled), { ledger: 'failed interrupted in-doubt health:unknown', metric: null, result: 'rethrow', breaker: false }],
    ['call ended by an error that is not an answer', call(new TypeError('x')), { ledger: 'failed interrupted in-doubt health:unknown', metric: null, result: 'rethrow', breaker: false }],
    ['token refused (401 from the token endpoint)', { step: 'authenticate', failure: classifyResponse(401, new Headers(), '', { tokenEndpoint: true }) }, { ledger: null, metric: null, result: 'stop misconfigured', breaker: false }],
    ['token endpoint down (503)', { step: 'authenticate', failure: classifyResponse(503, new Headers(), '', { tokenEndpoint: true }) }, { ledger: null, metric: null, result: `retry after ${BACKOFF} ms`, breaker: true }],
    ['token request cancelled', { step: 'authenticate', failure: cancelled }, { ledger: null, metric: null, result: 'rethrow', breaker: false }],
    ['row already sent (a retried or replayed attempt)', { step: 'take', taken: 'already_sent' }, { ledger: null, metric: null, result: 'return already_sent', breaker: false }],
    ['row no longer sendable (run over, activation deleted)', { step: 'take', taken: 'not_sendable' }, { ledger: null, metric: null, result: 'return not_sendable', breaker: false }],
    ['circuit breaker already open', { step: 'take', taken: 'breaker_open' }, { ledger: null, metric: null, result: 'stop unavailable', breaker: false }],
    ['row held by another attempt', { step: 'take', taken: 'contended' }, { ledger: null, metric: null, result: `retry after ${SEND_CONTENDED_RETRY_MS} ms`, breaker: false }],
  ])('%s', (_name, outcome, expected) => {
    expect(summary(decideSendOutcome(outcome, CONTEXT))).toEqual(expected);
  });

  it('stops a misconfigured run with the reason and the hint an operator acts on', () => {
    const { result } = decideSendOutcome(call(answer(403, '{"errorCode":"1014"}')), CONTEXT);
    expect(result).toMatchObject({ kind: 'stop', failure: 'misconfigured', message: expect.stringMatching(/403, errorCode 1014.*\. Check that the configured business unit id/s) as unknown });
  });

  it('keeps the retry message to what the classifier wrote, and passes a cancellation on as it came', () => {
    expect(decideSendOutcome(call(answer(503)), CONTEXT).result).toMatchObject({ kind: 'retry', message: 'Trustpilot server error (503) for the invitation' });
    expect(decideSendOutcome(call(cancelled), CONTEXT).result).toEqual({ kind: 'rethrow', error: cancelled });
  });
});

describe('the circuit breaker', () => {
  const LIMIT = CONTEXT.breakerLimit;
  it.each<[string, StepOutcome, number, string]>([
    ['a 503 below the limit is retried', call(answer(503)), LIMIT - 1, 'retry'],
    ['a 503 reaching the limit stops the run as unavailable', call(answer(503)), LIMIT, 'stop'],
    ['a reset connection reaching the limit stops the run', call(transport('ECONNRESET')), LIMIT, 'stop'],
    ['a refused connection reaching the limit stops the run', call(transport('ECONNREFUSED')), LIMIT + 3, 'stop'],
    ['a 429 never trips it, whatever the count', call(answer(429)), LIMIT + 3, 'retry'],
    ['a cancelled call never trips it', call(cancelled), LIMIT + 3, 'rethrow'],
    ['a rejected row never trips it', call(answer(400)), LIMIT + 3, 'return'],
  ])('%s', (_name, outcome, failuresInARow, kind) => {
    expect(resultAfterRecording(decideSendOutcome(outcome, CONTEXT), failuresInARow).kind).toBe(kind);
  });

  it('names the limit, the activation and the last failure', () => {
    const result = resultAfterRecording(decideSendOutcome(call(answer(503)), CONTEXT), LIMIT);
    expect(result).toEqual({
      kind: 'stop',
      failure: 'unavailable',
      message:
        "Trustpilot failed 5 times in a row for activation 'orders' (server errors, timeouts or lost connections): sending stopped; the unsent rows wait for the next run; the last: Trustpilot server error (503) for the invitation",
    });
  });
});

describe('the numbers run/policies.ts states for what configuration decides', () => {
  it('a destination trips its circuit breaker after 20 failures in a row, and an activation gives a failed row 5 runs, unless configured otherwise', () => {
    expect(destinationConfigSchema.parse({ id: 'd', businessUnitId: 'bu', invitationType: 'service' }).circuitBreaker.failuresInARow).toBe(20);
    const activation = activationConfigSchema.parse({
      id: 'a',
      destinationId: 'd',
      source: { kind: 'table', schema: 'shop', name: 'orders' },
      primaryKey: 'order_id',
      mapping: { consumerName: 'customer_name', consumerEmail: 'customer_email', referenceNumber: 'order_id' },
      schedule: { every: '1d' },
    });
    expect(activation.maxRunsForFailedRows).toBe(5);
  });
});
