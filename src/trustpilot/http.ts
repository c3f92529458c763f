import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { classifyTransportFailure, timeoutError, type TransportFailureContext } from './transport-errors.ts';

/** Error bodies are only kept (screened, ~2 KB) for diagnosis; never buffer a huge HTML page for that. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;
/** Success bodies are small JSON documents; anything bigger is not Trustpilot. */
const MAX_SUCCESS_BODY_BYTES = 8 * 1024 * 1024;

/** One HTTP exchange as a transport carries it: the request, already built. */
export interface TransportRequest {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** aborts the exchange, including reading the body */
  signal: AbortSignal;
}

/** Response headers, looked up by case-insensitive name (a web `Headers` is one). */
export interface ResponseHeaders {
  get(name: string): string | null;
}

/** The answer's status and headers, its body still to be read. */
export interface TransportResponse {
  status: number;
  headers: ResponseHeaders;
  body: AsyncIterable<Uint8Array>;
  /** stops reading and releases the connection */
  discard(): void;
}

/** Carries one request to the server; the client's one seam to the network (tests replace it). */
export type HttpTransport = (request: TransportRequest) => Promise<TransportResponse>;

export interface HttpRequest {
  transport: HttpTransport;
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
  headers: ResponseHeaders;
  bodyText: string;
  /** True when the status was 2xx but the body could not be read completely. */
  bodyIncomplete: boolean;
}

/**
 * Idle connections are closed after 4 s, or sooner when the server announces a shorter
 * keep-alive: reusing one the server has just closed would fail a call that never left, and for
 * an invitation that failure cannot be told apart from one Trustpilot may have accepted.
 */
const IDLE_CONNECTION_MS = 4_000;
const agents = {
  'http:': new HttpAgent({ keepAlive: true, timeout: IDLE_CONNECTION_MS }),
  'https:': new HttpsAgent({ keepAlive: true, timeout: IDLE_CONNECTION_MS }),
};

/**
 * The default transport: node:http(s) over keep-alive connections. Chosen over the global fetch
 * for its cost: a call through fetch spends about three times the CPU (web streams, Request and
 * Response objects), and a run makes one call per invitation.
 */
export const nodeTransport: HttpTransport = (request) =>
  new Promise((resolve, reject) => {
    const url = new URL(request.url);
    const agent = url.protocol === 'https:' ? agents['https:'] : url.protocol === 'http:' ? agents['http:'] : undefined;
    if (!agent) {
      reject(new TypeError(`unsupported protocol ${url.protocol}`));
      return;
    }
    const headers = request.body === undefined ? request.headers : { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) };
    const call = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { method: request.method, headers, agent, signal: request.signal }, (response) => {
      resolve({
        status: response.statusCode ?? 0,
        headers: {
          get: (name) => {
            const value = response.headers[name.toLowerCase()];
            return Array.isArray(value) ? value.join(', ') : (value ?? null);
          },
        },
        body: response,
        discard: () => response.destroy(),
      });
    });
    // Kept for the whole exchange: an error can also come after the answer arrived (a late abort), and an
    // 'error' event nobody listens to would crash the process; the body read reports that failure.
    call.on('error', reject);
    call.end(request.body);
  });

async function readTextCapped(response: TransportResponse, maxBytes: number): Promise<string> {
  const decoder = new TextDecoder();
  let received = 0;
  let text = '';
  for await (const chunk of response.body) {
    received += chunk.byteLength;
    if (received > maxBytes) {
      text += decoder.decode(chunk.subarray(0, Math.max(0, chunk.byteLength - (received - maxBytes))), { stream: true });
      response.discard();
      break;
    }
    text += decoder.decode(chunk, { stream: true });
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
 * The timeout covers the whole exchange including the body, because the signal given to the
 * transport also aborts the body stream.
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
 * Turns a thrown transport/body error into what the caller should see: the caller's own abort
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
    let response: TransportResponse;
    try {
      // Redirects are never followed (a transport must not): one would resend the Authorization
      // header to wherever it points; the 3xx is answered as misconfiguration instead.
      response = await request.transport({
        method: request.method,
        url: request.url,
        headers: request.headers,
        ...(request.body !== undefined ? { body: request.body } : {}),
        signal: call.signal,
      });
    } catch (error) {
      throw translateFailure(error, request, call);
    }
    const ok = response.status >= 200 && response.status < 300;
    try {
      const bodyText = await readTextCapped(response, ok ? MAX_SUCCESS_BODY_BYTES : MAX_ERROR_BODY_BYTES);
      return { status: response.status, ok, headers: response.headers, bodyText, bodyIncomplete: false };
    } catch (error) {
      // The 2xx status already settled the outcome; even a caller abort now must not hide it.
      if (ok && request.successWithoutBodyIsSuccess) {
        return { status: response.status, ok: true, headers: response.headers, bodyText: '', bodyIncomplete: true };
      }
      if (request.signal?.aborted) throw request.signal.reason ?? error;
      throw translateFailure(error, request, call);
    }
  } finally {
    call.dispose();
  }
}
