import type { TrustpilotError } from './error.ts';

// Failures that prove the request never reached Trustpilot's invitation service.
const NEVER_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * Whether a failed call may nevertheless have created the invitation: a lost connection or a
 * timeout after sending, or a 5xx from a gateway in front of the service. A 429 was refused
 * before any work, and a refused connection never carried the request.
 */
export function mayHaveBeenAccepted(error: TrustpilotError): boolean {
  if (error.kind !== 'retryable') return false;
  if (error.status !== undefined) return error.status >= 500;
  return !(error.errorCode !== undefined && NEVER_SENT_CODES.has(error.errorCode));
}

/** Trustpilot looks down (not merely busy): server errors, timeouts and lost connections, not 429s. */
export function looksDown(error: TrustpilotError): boolean {
  return error.kind === 'retryable' && error.status !== 429;
}

/**
 * What a failed call says about Trustpilot's health: `down` counts towards a run's circuit
 * breaker, `answered` (it replied, e.g. 400 or 403) resets the count, `unknown` (a 429) leaves it.
 */
export function healthOf(error: TrustpilotError): 'down' | 'answered' | 'unknown' {
  if (looksDown(error)) return 'down';
  return error.status === undefined || error.status === 429 ? 'unknown' : 'answered';
}
