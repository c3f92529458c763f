import type { ResponseHeaders } from './http.ts';
import { keepCorrelationId, keepErrorCode, screenFor, SentValues, type AnswerScreen } from './withhold.ts';

/**
 * - `rejected`: this one request is wrong (e.g. invalid email); do not retry it, record why.
 * - `retryable`: transient (rate limit, 5xx, network, timeout); retry later with backoff.
 * - `misconfigured`: credentials, ids, hosts or a client bug; every request will fail the
 *   same way, so stop the whole run and tell an operator.
 */
export type TrustpilotErrorKind = 'rejected' | 'retryable' | 'misconfigured';

export interface TrustpilotErrorDetail {
  field?: string;
  message: string;
}

export interface TrustpilotErrorInit {
  kind: TrustpilotErrorKind;
  status?: number;
  retryAfterMs?: number;
  errorCode?: string;
  /** Trustpilot's id of the failed call, for its support; UUID-shaped only. */
  correlationId?: string;
  hint?: string;
  details?: TrustpilotErrorDetail[];
  responseText?: string;
  cause?: unknown;
}

export class TrustpilotError extends Error {
  readonly kind: TrustpilotErrorKind;
  readonly status?: number;
  readonly retryAfterMs?: number;
  readonly errorCode?: string;
  readonly correlationId?: string;
  readonly hint?: string;
  readonly details?: TrustpilotErrorDetail[];
  readonly responseText?: string;

  constructor(message: string, init: TrustpilotErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'TrustpilotError';
    this.kind = init.kind;
    // Assigned only when defined so that `toEqual`/serialisation does not show empty keys.
    if (init.status !== undefined) this.status = init.status;
    if (init.retryAfterMs !== undefined) this.retryAfterMs = init.retryAfterMs;
    if (init.errorCode !== undefined) this.errorCode = init.errorCode;
    if (init.correlationId !== undefined) this.correlationId = init.correlationId;
    if (init.hint !== undefined) this.hint = init.hint;
    if (init.details !== undefined) this.details = init.details;
    if (init.responseText !== undefined) this.responseText = init.responseText;
  }

  /** What a structured logger or Temporal failure converter gets; server text in it has already been screened. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      message: this.message,
      kind: this.kind,
      status: this.status,
      retryAfterMs: this.retryAfterMs,
      errorCode: this.errorCode,
      correlationId: this.correlationId,
      hint: this.hint,
      details: this.details,
      responseText: this.responseText,
    };
  }
}

export function isTrustpilotError(error: unknown): error is TrustpilotError {
  return error instanceof TrustpilotError;
}

/** Extra knowledge the pure classifier cannot infer from the response alone. */
export interface ClassifyContext {
  /** Human wording for messages, e.g. "the invitation", "the template list". */
  subject?: string;
  /** The response came from the OAuth token/refresh endpoint rather than an API call. */
  tokenEndpoint?: boolean;
  /** The call creates something that Trustpilot may have done despite the error (no idempotency key). */
  mayHaveSideEffects?: boolean;
  /**
   * Every string the call sent: each string leaf of the request body, the credentials and the
   * tokens. A piece of server text that quotes any of them is withheld whole (see withhold.ts
   * for what else is withheld).
   */
  sentValues?: readonly (string | undefined)[];
  /** The business unit the call was for; configuration, so it may be named in messages. */
  businessUnitId?: string;
  /** The configured x-business-user-id, if any; configuration, so it may be named in messages. */
  businessUserId?: string;
  /** Clock for HTTP-date Retry-After values; defaults to Date.now. */
  now?: () => number;
}

export const HINTS = {
  businessUserIdIsUnitId:
    'x-business-user-id must be a business USER id (a user with the Admin or Manager role), not the business UNIT id; check the configured businessUserId.',
  businessUserRefused:
    'Check that the configured business unit id, businessUserId and API key belong to the same Trustpilot business, and that the business user has the Admin or Manager role.',
  forbidden:
    'Check the configured business unit id, the Admin/Manager role of the business user and the Trustpilot plan; the API key must belong to the same business as the business unit.',
  notFound: 'Check apiUrl/invitationsApiUrl (wrong host or path) and the business unit id.',
  unsupportedMediaType: 'Trustpilot refused the Content-Type: this is a bug in the client, not in the data.',
  credentialsRejected:
    'Check apiKey/apiSecret (and username/password for the password grant); the application may have been revoked or disabled.',
  tokenRejected: 'API key/secret or username/password rejected by the token endpoint.',
  rateLimited: 'Trustpilot allows about 833 calls per 5 minutes and 10,000 per hour per application; slow down.',
  serverError: 'Trustpilot-side problem; Trustpilot advises retrying in 5–15 minutes with backoff.',
  mayHaveBeenAccepted:
    'Trustpilot may have accepted the invitation before failing; make sure a retry cannot send a second email (deduplicate first).',
  unexpectedStatus: 'Unexpected HTTP status; check apiUrl/invitationsApiUrl point at Trustpilot (a proxy or redirect may be in the way).',
} as const;

const MAX_DETAILS = 20;
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

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function tryParseJson(text: string): unknown {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) return undefined;
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    return undefined;
  }
}

function firstString(record: Record<string, unknown>, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const value = record[key];
    if (typeof value === 'string' && value.trim() !== '') return value.trim();
    if (typeof value === 'number') return String(value);
  }
  return undefined;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

const FIELD_KEYS = ['field', 'property', 'propertyName', 'path', 'name', 'key', 'parameter'] as const;
const MESSAGE_KEYS = ['message', 'error', 'errorMessage', 'description', 'reason', 'detail', 'msg'] as const;

function detailFrom(entry: unknown, fieldFromKey?: string): TrustpilotErrorDetail | undefined {
  if (typeof entry === 'string') return entry.trim() ? { ...(fieldFromKey ? { field: fieldFromKey } : {}), message: entry.trim() } : undefined;
  if (!isRecord(entry)) return undefined;
  const message = firstString(entry, MESSAGE_KEYS);
  if (!message) return undefined;
  let field = firstString(entry, FIELD_KEYS) ?? fieldFromKey;
  const memberNames = entry['memberNames'];
  if (!field && Array.isArray(memberNames) && typeof memberNames[0] === 'string') field = memberNames[0];
  return field ? { field, message } : { message };
}

/**
 * Accepts the shapes seen in the wild: `{details:[{field,message}]}`, `{errors:[...]}`,
 * ASP.NET-style `{errors:{field:[messages]}}`, plain string arrays, or a top-level array.
 */
function parseDetails(body: unknown): TrustpilotErrorDetail[] {
  const candidates: unknown[] = [];
  if (Array.isArray(body)) candidates.push(body);
  if (isRecord(body)) {
    for (const key of ['details', 'errors', 'validationErrors', 'fieldErrors']) {
      if (key in body) candidates.push(body[key]);
    }
  }
  const details: TrustpilotErrorDetail[] = [];
  for (const candidate of candidates) {
    if (Array.isArray(candidate)) {
      for (const entry of candidate) {
        const detail = detailFrom(entry);
        if (detail) details.push(detail);
      }
    } else if (isRecord(candidate)) {
      for (const [field, value] of Object.entries(candidate)) {
        const entries: unknown[] = Array.isArray(value) ? value : [value];
        for (const entry of entries) {
          const detail = detailFrom(entry, field);
          if (detail) details.push(detail);
        }
      }
    } else if (typeof candidate === 'string' && candidate.trim()) {
      details.push({ message: candidate.trim() });
    }
    if (details.length > 0) break;
  }
  return details.slice(0, MAX_DETAILS);
}

/**
 * An error code is shown and stored as is, so it must look like one: a server that put the
 * rejected value (an email address, say) into `errorCode` would otherwise have it stored.
 */
const ERROR_CODE_SHAPE = /^[A-Za-z0-9_.:-]{1,64}$/;
/** Configuration ids named in messages; anything else is described rather than quoted. */
const CONFIG_ID_SHAPE = /^[A-Za-z0-9_.:-]{1,100}$/;

function rawErrorCode(body: unknown): string | undefined {
  if (!isRecord(body)) return undefined;
  const direct = firstString(body, ['errorCode', 'errorcode', 'ErrorCode', 'code']);
  if (direct) return direct;
  const fault = body['fault'];
  if (isRecord(fault)) {
    const detail = fault['detail'];
    if (isRecord(detail)) {
      const code = firstString(detail, ['errorcode', 'errorCode']);
      if (code) return code;
    }
  }
  // OAuth-style token errors: {"error":"invalid_grant","error_description":"..."}
  if (typeof body['error'] === 'string' && /^[a-z_.]+$/i.test(body['error'])) return body['error'];
  return undefined;
}

/** The error code of a response body, or undefined when absent or not shaped like a code. */
export function parseErrorCode(body: unknown): string | undefined {
  const code = rawErrorCode(body);
  return code !== undefined && ERROR_CODE_SHAPE.test(code) ? code : undefined;
}

function screenDetail(detail: TrustpilotErrorDetail, screen: AnswerScreen): TrustpilotErrorDetail {
  const field = screen.field(detail.field);
  const message = clip(screen.text(detail.message, field), MAX_DETAIL_CHARS);
  return field === undefined ? { message } : { field, message };
}

const CORRELATION_ID_KEYS = ['correlationId', 'correlationID', 'CorrelationId', 'correlation_id', 'traceId', 'requestId'] as const;

function parseCorrelationId(body: unknown): string | undefined {
  return isRecord(body) ? firstString(body, CORRELATION_ID_KEYS) : undefined;
}

function parseTopLevelMessage(body: unknown): string | undefined {
  if (!isRecord(body)) return undefined;
  // `Error` is the Apigee OAuthV2 spelling: {"ErrorCode":"invalid_client","Error":"..."}.
  const direct = firstString(body, ['message', 'error_description', 'Error', 'errorMessage', 'title', 'detail']);
  if (direct) return direct;
  const fault = body['fault'];
  if (isRecord(fault)) return firstString(fault, ['faultstring', 'message']);
  return undefined;
}

function describeDetails(details: readonly TrustpilotErrorDetail[]): string {
  return details.map((d) => (d.field ? `${d.field}: ${d.message}` : d.message)).join('; ');
}

function quotedConfigId(id: string | undefined): string | undefined {
  const trimmed = id?.trim();
  return trimmed !== undefined && CONFIG_ID_SHAPE.test(trimmed) ? `'${trimmed}'` : undefined;
}

function businessUnitLabel(context: ClassifyContext): string {
  const id = quotedConfigId(context.businessUnitId);
  return id === undefined ? 'the business unit' : `business unit ${id}`;
}

function businessUserLabel(context: ClassifyContext): string {
  if (context.businessUserId === undefined) return 'the business user of these credentials';
  const id = quotedConfigId(context.businessUserId);
  return id === undefined ? 'the configured business user' : `business user ${id}`;
}

function isUnitIdUsedAsUserId(context: ClassifyContext): boolean {
  const user = context.businessUserId?.trim();
  return user !== undefined && user !== '' && user === context.businessUnitId?.trim();
}

interface Explanation {
  message: string;
  hint: string;
}

/**
 * 403 from the invitations host. 1014 is Trustpilot's answer to an x-business-user-id it does
 * not accept for the business unit; the causes are several, and the ids are named so that an
 * operator can compare them with the configuration without guessing which one was used.
 */
function explainForbidden(subject: string, errorCode: string | undefined, context: ClassifyContext): Explanation {
  const unit = businessUnitLabel(context);
  const code = errorCode === undefined ? '403' : `403, errorCode ${errorCode}`;
  if (errorCode === '1014' && isUnitIdUsedAsUserId(context)) {
    return {
      message: `Trustpilot forbade ${subject} for ${unit} (${code}): the configured business user id is the business UNIT id`,
      hint: HINTS.businessUserIdIsUnitId,
    };
  }
  if (errorCode === '1014') {
    return {
      message:
        `Trustpilot refused ${businessUserLabel(context)} for ${unit} (${code}) on ${subject}. Possible causes: ` +
        'the business unit id is wrong or belongs to another business; ' +
        'the business USER id is not an Admin or Manager user of that business (or is a business UNIT id); ' +
        'the API key belongs to another business',
      hint: HINTS.businessUserRefused,
    };
  }
  return {
    message:
      `Trustpilot forbade ${subject} for ${unit} (${code}). Possible causes: ` +
      'the business unit id is unknown or belongs to another business; ' +
      'the business user lacks Admin or Manager rights; ' +
      'the Trustpilot plan does not include the Invitation API',
    hint: HINTS.forbidden,
  };
}

function explainNotFound(subject: string, context: ClassifyContext): Explanation {
  return {
    message:
      `Trustpilot endpoint or ${businessUnitLabel(context)} not found (404) for ${subject}. Possible causes: ` +
      'the business unit id is unknown; apiUrl/invitationsApiUrl point at the wrong host or path',
    hint: HINTS.notFound,
  };
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
