import type { HttpTransport } from '../../src/trustpilot/index.ts';

/** What a scripted Trustpilot answers: web `Response`s, the handiest way to write one down. */
export type ScriptedServer = (url: string, init: { method: string; headers: Record<string, string>; body?: string; signal: AbortSignal }) => Promise<Response>;

/** The client's transport seam played by a script instead of the network. */
export function scriptedTransport(server: ScriptedServer): HttpTransport {
  return async (request) => {
    const response = await server(request.url, {
      method: request.method,
      headers: request.headers,
      ...(request.body !== undefined ? { body: request.body } : {}),
      signal: request.signal,
    });
    const body = response.body as ReadableStream<Uint8Array> | null;
    return {
      status: response.status,
      headers: response.headers,
      body: body ?? (async function* () {})(),
      discard: () => void body?.cancel().catch(() => undefined),
    };
  };
}
