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
