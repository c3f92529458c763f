import { classifyTransportFailure, timeoutError, type TransportFailureContext } from './errors.ts';

/** Error bodies are only kept (redacted, ~2 KB) for diagnosis; never buffer a huge HTML page for that. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;
/** Success bodies are small JSON documents; anything bigger is not Trustpilot. */
const MAX_SUCCESS_BODY_BYTES = 8 * 1024 * 1024;

export interface HttpRequest {
  fetch: typeof fetch;
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  signal?: AbortSignal;
  context: TransportFailureContext;
  /**
   * For calls with side effects: once a 2xx status arrived the request is done, so a body that
   * fails to arrive must not turn into a retryable error (a retry would duplicate the effect).
   */
  successWithoutBodyIsSuccess?: boolean;
}

export interface HttpResponse {
  status: number;
  ok: boolean;
  headers: Headers;
  bodyText: string;
  /** True when the status was 2xx but the body could not be read completely. */
  bodyIncomplete: boolean;
}

async function readTextCapped(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return '';
  // Typed explicitly: the DOM-less Node typings leave the chunk type as `any`.
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let received = 0;
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    received += value.byteLength;
    if (received > maxBytes) {
      text += decoder.decode(value.subarray(0, Math.max(0, value.byteLength - (received - maxBytes))), { stream: true });
      await reader.cancel().catch(() => undefined);
      break;
    }
    text += decoder.decode(value, { stream: true });
  }
  return text + decoder.decode();
}

/**
 * Builds the per-call signal. The timeout covers the whole exchange including the body,
 * because the signal given to fetch also aborts the body stream.
 */
function callSignal(timeoutMs: number, callerSignal: AbortSignal | undefined): { signal: AbortSignal; timeout: AbortSignal } {
  const timeout = AbortSignal.timeout(timeoutMs);
  return { signal: callerSignal ? AbortSignal.any([callerSignal, timeout]) : timeout, timeout };
}

/**
 * Turns a thrown fetch/body error into what the caller should see: the caller's own abort
 * reason unchanged (cancellation is not a Trustpilot failure), a retryable timeout, or a
 * classified transport failure.
 */
function translateFailure(error: unknown, request: HttpRequest, timeout: AbortSignal): unknown {
  if (request.signal?.aborted) return request.signal.reason ?? error;
  if (timeout.aborted) return timeoutError(request.context, request.timeoutMs);
  return classifyTransportFailure(error, request.context);
}

export async function sendHttp(request: HttpRequest): Promise<HttpResponse> {
  request.signal?.throwIfAborted();
  const { signal, timeout } = callSignal(request.timeoutMs, request.signal);
  let response: Response;
  try {
    response = await request.fetch(request.url, {
      method: request.method,
      headers: request.headers,
      ...(request.body !== undefined ? { body: request.body } : {}),
      signal,
      // A redirect would resend the Authorization header to wherever it points; treat it as misconfiguration instead.
      redirect: 'manual',
    });
  } catch (error) {
    throw translateFailure(error, request, timeout);
  }
  try {
    const bodyText = await readTextCapped(response, response.ok ? MAX_SUCCESS_BODY_BYTES : MAX_ERROR_BODY_BYTES);
    return { status: response.status, ok: response.ok, headers: response.headers, bodyText, bodyIncomplete: false };
  } catch (error) {
    if (request.signal?.aborted) throw request.signal.reason ?? error;
    if (response.ok && request.successWithoutBodyIsSuccess) {
      return { status: response.status, ok: true, headers: response.headers, bodyText: '', bodyIncomplete: true };
    }
    throw translateFailure(error, request, timeout);
  }
}
