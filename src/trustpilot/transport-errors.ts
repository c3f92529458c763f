/**
 * Failures where no HTTP status was received: connection errors, TLS problems, timeouts.
 * Only error codes travel into messages: socket and DNS error messages name addresses and hosts
 * (`connect ECONNREFUSED 10.0.0.1:443`), and a transport's own messages may carry the URL.
 */
import { TrustpilotError } from './error.ts';
import { HINTS } from './explanations.ts';

const NETWORK_CODE_DESCRIPTIONS: Record<string, string> = {
  ECONNRESET: 'connection reset',
  ECONNREFUSED: 'connection refused',
  ECONNABORTED: 'connection aborted',
  EPIPE: 'connection closed while sending',
  ETIMEDOUT: 'connection timed out',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'DNS lookup failed temporarily',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  // undici's codes (the engine of the global fetch), for a transport built on it instead of node:http(s).
  UND_ERR_SOCKET: 'connection closed by the server',
  UND_ERR_CONNECT_TIMEOUT: 'connect timeout',
  UND_ERR_HEADERS_TIMEOUT: 'timed out waiting for response headers',
  UND_ERR_BODY_TIMEOUT: 'timed out reading the response body',
  UND_ERR_CLOSED: 'connection closed',
};

const TLS_CODES = /^(CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT|ERR_TLS_|ERR_SSL_)/;

/**
 * Walks the `cause` chain: node:http(s) throws the socket error itself, but a transport may wrap
 * it (fetch throws "fetch failed" with the socket error as its cause), keeping the code underneath.
 */
function errorCodesOf(error: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    current = (current as { cause?: unknown }).cause;
  }
  return codes;
}

export interface TransportFailureContext {
  subject: string;
  mayHaveSideEffects?: boolean;
}

/** Classifies a failure where no HTTP response was received (or the body could not be read). */
export function classifyTransportFailure(error: unknown, context: TransportFailureContext): TrustpilotError {
  const codes = errorCodesOf(error);
  const tlsCode = codes.find((code) => TLS_CODES.test(code));
  if (tlsCode) {
    return new TrustpilotError(`TLS failure talking to Trustpilot for ${context.subject} (${tlsCode})`, {
      kind: 'misconfigured',
      errorCode: tlsCode,
      hint: 'The server certificate was not accepted; check apiUrl/invitationsApiUrl and any TLS-intercepting proxy.',
      cause: error,
    });
  }
  const known = codes.find((code) => code in NETWORK_CODE_DESCRIPTIONS);
  const description = known ? `${NETWORK_CODE_DESCRIPTIONS[known]} (${known})` : codes[0] ? codes[0] : 'network error';
  const hint = context.mayHaveSideEffects
    ? `Network failure; retry with backoff. ${HINTS.mayHaveBeenAccepted}`
    : known === 'ENOTFOUND'
      ? 'Network failure; if it persists check the host name in apiUrl/invitationsApiUrl.'
      : 'Network failure; retry with backoff.';
  return new TrustpilotError(`Could not reach Trustpilot for ${context.subject}: ${description}`, {
    kind: 'retryable',
    ...(known || codes[0] ? { errorCode: known ?? codes[0] } : {}),
    hint,
    cause: error,
  });
}

export function timeoutError(context: TransportFailureContext, timeoutMs: number): TrustpilotError {
  return new TrustpilotError(`Trustpilot did not answer ${context.subject} within ${timeoutMs} ms`, {
    kind: 'retryable',
    errorCode: 'TIMEOUT',
    hint: context.mayHaveSideEffects ? `Timed out; retry with backoff. ${HINTS.mayHaveBeenAccepted}` : 'Timed out; retry with backoff.',
  });
}
