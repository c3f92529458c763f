import { classifyTransportFailure, timeoutError, type TransportFailureContext } from './transport-errors.ts';

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

interface CallSignal {
  signal: AbortSignal;
  timedOut(): boolean;
  /** Clears the timer and detaches from the caller's signal; call once the exchange is over. */
  dispose(): void;
}

/**
 * The per-call signal: aborted by the caller's signal or by the timeout, whichever comes first.
 * The timeout covers the whole exchange including the body, because the signal given to fetch
 * also aborts the body stream.
 *
 * Built by hand rather than with AbortSignal.any: on Node 20 every AbortSignal.any() result
 * stays attached to a long-lived input signal (nodejs/node#54614, #55351), and a Temporal
 * activity may pass the same cancellation signal to thousands of calls.
 */
function callSignal(timeoutMs: number, callerSignal: AbortSignal | undefined): CallSignal {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new DOMException(`Timed out after ${timeoutMs} ms`, 'TimeoutError'));
  }, timeoutMs);
  const onCallerAbort = (): void => controller.abort(callerSignal?.reason);
  callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    dispose: () => {
      clearTimeout(timer);
      callerSignal?.removeEventListener('abort', onCallerAbort);
    },
  };
}

/**
 * Turns a thrown fetch/body error into what the caller should see: the caller's own abort
 * reason unchanged (cancellation is not a Trustpilot failure), a retryable timeout, or a
 * classified transport failure.
 */
function translateFailure(error: unknown, request: HttpRequest, call: CallSignal): unknown {
  if (request.signal?.aborted) return request.signal.reason ?? error;
  if (call.timedOut()) return timeoutError(request.context, request.timeoutMs);
  return classifyTransportFailure(error, request.context);
}

export async function sendHttp(request: HttpRequest): Promise<HttpResponse> {
  request.signal?.throwIfAborted();
  const call = callSignal(request.timeoutMs, request.signal);
  try {
    let response: Response;
    try {
      response = await request.fetch(request.url, {
        method: request.method,
        headers: request.headers,
        ...(request.body !== undefined ? { body: request.body } : {}),
        signal: call.signal,
        // A redirect would resend the Authorization header to wherever it points; treat it as misconfiguration instead.
        redirect: 'manual',
      });
    } catch (error) {
      throw translateFailure(error, request, call);
    }
    try {
      const bodyText = await readTextCapped(response, response.ok ? MAX_SUCCESS_BODY_BYTES : MAX_ERROR_BODY_BYTES);
      return { status: response.status, ok: response.ok, headers: response.headers, bodyText, bodyIncomplete: false };
    } catch (error) {
      // The 2xx status already settled the outcome; even a caller abort now must not hide it.
      if (response.ok && request.successWithoutBodyIsSuccess) {
        return { status: response.status, ok: true, headers: response.headers, bodyText: '', bodyIncomplete: true };
      }
      if (request.signal?.aborted) throw request.signal.reason ?? error;
      throw translateFailure(error, request, call);
    }
  } finally {
    call.dispose();
  }
}
