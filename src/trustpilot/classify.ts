import { parseCorrelationId, parseDetails, parseErrorCode, parseTopLevelMessage, tryParseJson } from './answer-body.ts';
import { TrustpilotError, type TrustpilotErrorDetail, type TrustpilotErrorKind } from './error.ts';
import { explainForbidden, explainNotFound, HINTS, type Explanation } from './explanations.ts';
import type { ResponseHeaders } from './http.ts';
import { SentValues } from './sent-values.ts';
import type { ClassifyContext } from './types.ts';
import { keepCorrelationId, keepErrorCode, screenFor, type AnswerScreen } from './withhold.ts';

const MAX_DETAIL_CHARS = 300;
const MAX_SUMMARY_CHARS = 300;

/**
 * Parses `Retry-After`: delta-seconds ("120", tolerating "1.5") or an HTTP-date.
 * Returns milliseconds from now, never negative; undefined when absent or unparseable.
 */
export function parseRetryAfter(value: string | null | undefined, now: () => number = Date.now): number | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  // An HTTP-date always names a day or month; this keeps Date.parse from reading "-5" as a year.
  if (!/[a-z]/i.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now());
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function screenDetail(detail: TrustpilotErrorDetail, screen: AnswerScreen): TrustpilotErrorDetail {
  const field = screen.field(detail.field);
  const message = clip(screen.text(detail.message, field), MAX_DETAIL_CHARS);
  return field === undefined ? { message } : { field, message };
}

function describeDetails(details: readonly TrustpilotErrorDetail[]): string {
  return details.map((d) => (d.field ? `${d.field}: ${d.message}` : d.message)).join('; ');
}

/**
 * Turns a non-2xx response into a TrustpilotError. Pure apart from the optional clock:
 * it reads only its arguments, so it can be tested exhaustively.
 *
 * Below 500, a piece of server text (top-level message, each detail, the body) is kept only
 * when it is plain validation text, and field names only when they name request fields; from
 * 500 on, a piece is kept when it quotes nothing the call sent (see withhold.ts). The error code
 * must look like a code, the correlation id like a UUID. What the client writes itself names
 * configuration only.
 *
 * A 401 here is final: the client handles the first 401 of a call itself (renew the token
 * and retry once) and only classifies the second one.
 */
export function classifyResponse(status: number, headers: ResponseHeaders, bodyText: string, context: ClassifyContext = {}): TrustpilotError {
  const sent = SentValues.of(context.sentValues ?? []);
  const screen = screenFor(status, sent);
  const subject = context.subject ?? (context.tokenEndpoint ? 'the access token request' : 'the request');
  const body = tryParseJson(bodyText);
  const errorCode = keepErrorCode(parseErrorCode(body), sent);
  const correlationId = keepCorrelationId(parseCorrelationId(body), sent);
  const details = parseDetails(body).map((d) => screenDetail(d, screen));
  const topMessage = parseTopLevelMessage(body);
  const topSummary = topMessage === undefined ? '' : screen.text(topMessage);
  const summary = clip(details.length > 0 ? describeDetails(details) : topSummary, MAX_SUMMARY_CHARS);
  const retryAfterMs = parseRetryAfter(headers.get('retry-after'), context.now);
  const responseText = bodyText === '' ? undefined : screen.body(bodyText);
  const codeSuffix = errorCode ? `, errorCode ${errorCode}` : '';
  const withSummary = (text: string): string => (summary ? `${text}: ${summary}` : text);

  const make = (kind: TrustpilotErrorKind, message: string, hint?: string): TrustpilotError =>
    new TrustpilotError(message, {
      kind,
      status,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      ...(errorCode !== undefined ? { errorCode } : {}),
      ...(correlationId !== undefined ? { correlationId } : {}),
      ...(hint !== undefined ? { hint } : {}),
      ...(details.length > 0 ? { details } : {}),
      ...(responseText !== undefined ? { responseText } : {}),
    });
  const explained = (explanation: Explanation): TrustpilotError => make('misconfigured', explanation.message, explanation.hint);

  const sideEffectHint = (hint: string): string => (context.mayHaveSideEffects ? `${hint} ${HINTS.mayHaveBeenAccepted}` : hint);

  if (status === 429) {
    const wait = retryAfterMs !== undefined ? `; retry after ${Math.ceil(retryAfterMs / 1000)} s` : '';
    return make('retryable', `Trustpilot rate limit reached (429) for ${subject}${wait}`, HINTS.rateLimited);
  }
  if (status >= 500) {
    return make('retryable', `Trustpilot server error (${status}) for ${subject}`, sideEffectHint(HINTS.serverError));
  }
  // 408 means the server gave up waiting for our request: nothing was processed, so it is safe to retry.
  if (status === 408) {
    return make('retryable', `Trustpilot timed out waiting for ${subject} (408)`);
  }

  if (context.tokenEndpoint) {
    // No request-level mistake is possible when asking for a token: any other 4xx is configuration.
    if (status === 400 || status === 401) {
      return make('misconfigured', withSummary(`Trustpilot rejected the API key/secret or username/password (${status}${codeSuffix})`), HINTS.tokenRejected);
    }
    if (status === 404) return make('misconfigured', `Trustpilot token endpoint not found (404)`, 'Check apiUrl (wrong host or path).');
    if (status >= 400 && status < 500) {
      return make('misconfigured', withSummary(`Trustpilot refused ${subject} (${status}${codeSuffix})`), HINTS.tokenRejected);
    }
    return make('misconfigured', `Unexpected HTTP status ${status} for ${subject}`, HINTS.unexpectedStatus);
  }

  switch (status) {
    case 400:
      return make('rejected', withSummary(`Trustpilot rejected ${subject} (400)`));
    case 401:
      return make('misconfigured', `Trustpilot credentials rejected (401${codeSuffix}) for ${subject}`, HINTS.credentialsRejected);
    case 403:
      return explained(explainForbidden(subject, errorCode, context));
    case 404:
      return explained(explainNotFound(subject, context));
    case 415:
      return make('misconfigured', `Trustpilot refused the content type (415) for ${subject}`, HINTS.unsupportedMediaType);
  }
  if (status >= 400 && status < 500) {
    return make('rejected', withSummary(`Trustpilot rejected ${subject} (${status}${codeSuffix})`));
  }
  // 1xx/3xx reaching us means something between us and Trustpilot is not what we think it is.
  return make('misconfigured', `Unexpected HTTP status ${status} for ${subject}`, HINTS.unexpectedStatus);
}
