/**
 * A fake Trustpilot for dev mode, integration tests and benchmarks: one node:http server
 * answering both the api host (OAuth) and the invitations host, with all
 * state in memory. It logs nothing per request, so no personal data leaves it except
 * through the admin routes and the programmatic API.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BodyTooLargeError, pathOf, sendJson } from './http-io.ts';
import { ADMIN_PREFIX, handleAdminRequest } from './routes/admin.ts';
import { sendMethodNotAllowed, sendNotFound } from './routes/common.ts';
import { BUSINESS_UNITS_PREFIX, handleBusinessUnitRequest } from './routes/invitations.ts';
import { ACCESS_TOKEN_PATH, REFRESH_PATH, handleAccessToken, handleRefresh } from './routes/oauth.ts';
import { clearState, createState, replaceFaults, replaceRateLimit, type FakeState } from './state.ts';
import type { FakeTrustpilot, FakeTrustpilotOptions } from './types.ts';

export { FAKE_DEFAULTS } from './defaults.ts';
export { UNKNOWN_BUSINESS_UNIT_ERROR_CODE } from './error-bodies.ts';
export type {
  AcceptedInvitation,
  DuplicateInvitation,
  FakeApplication,
  FakeFaults,
  FakeRateLimit,
  FakeTrustpilot,
  FakeTrustpilotOptions,
  FakeTrustpilotStats,
} from './types.ts';

export async function startFakeTrustpilot(options: FakeTrustpilotOptions = {}): Promise<FakeTrustpilot> {
  const state = createState(options);
  let adminHosts = new Set<string>();
  const server = createServer((req, res) => {
    dispatch(req, res, state, adminHosts).catch((error: unknown) => answerUnexpectedError(res, error));
  });
  // Benchmarks open many keep-alive connections; the default 5 s is fine, but never let
  // an idle socket outlive a test by much.
  server.keepAliveTimeout = 5_000;

  const host = options.host ?? '127.0.0.1';
  await listen(server, options.port ?? 0, host);
  const { port } = server.address() as AddressInfo;
  const hostInUrl = host.includes(':') ? `[${host}]` : host;
  const url = `http://${hostInUrl}:${port}`;
  adminHosts = adminHostHeaders(hostInUrl, port);

  let closing: Promise<void> | null = null;
  return {
    url,
    apiUrl: url,
    invitationsApiUrl: url,
    accepted: () => state.invitations.all(),
    duplicates: () => state.invitations.duplicates(),
    stats: () => state.stats.snapshot(),
    clear: () => clearState(state),
    setFaults: (faults) => replaceFaults(state, faults),
    setRateLimit: (rateLimit) => replaceRateLimit(state, rateLimit),
    close: () => (closing ??= shutDown(server, state)),
  };
}

/**
 * The Host headers the admin routes answer. A web page the developer visits can resolve a name of
 * its own to 127.0.0.1 (DNS rebinding) and so reach the fake from the browser, but the browser then
 * sends that name as Host: the loopback names and the host the fake was started on are all that a
 * request meant for it carries.
 */
function adminHostHeaders(hostInUrl: string, port: number): Set<string> {
  const names = new Set(['localhost', '127.0.0.1', '[::1]', hostInUrl.toLowerCase()]);
  const headers = new Set([...names].map((name) => `${name}:${port}`));
  // A client leaves the default port out of Host.
  if (port === 80) for (const name of names) headers.add(name);
  return headers;
}

async function dispatch(req: IncomingMessage, res: ServerResponse, state: FakeState, adminHosts: ReadonlySet<string>): Promise<void> {
  const path = pathOf(req);
  if (path === ADMIN_PREFIX || path.startsWith(`${ADMIN_PREFIX}/`)) {
    if (!adminHosts.has((req.headers.host ?? '').toLowerCase())) return sendJson(res, 403, { message: 'Forbidden: the admin routes answer only requests addressed to localhost, 127.0.0.1 or [::1]' });
    return handleAdminRequest(req, res, state, path);
  }

  state.stats.countRequest();
  // 'finish' never fires for a destroyed socket, so dropped answers get no status.
  res.once('finish', () => state.stats.countStatus(res.statusCode));

  if (path.startsWith(BUSINESS_UNITS_PREFIX)) return handleBusinessUnitRequest(req, res, state, path.slice(BUSINESS_UNITS_PREFIX.length));
  if (path === ACCESS_TOKEN_PATH) return req.method === 'POST' ? handleAccessToken(req, res, state) : sendMethodNotAllowed(res, 'POST');
  if (path === REFRESH_PATH) return req.method === 'POST' ? handleRefresh(req, res, state) : sendMethodNotAllowed(res, 'POST');
  sendNotFound(res);
}

function answerUnexpectedError(res: ServerResponse, error: unknown): void {
  if (error instanceof BodyTooLargeError) return sendJson(res, 413, { message: 'Request body too large' });
  // The caller hung up mid-request (a client timeout, a test closing the server): nothing to answer.
  if (res.destroyed || res.socket === null || res.socket.destroyed) return;
  // Name only: messages could quote request content.
  console.error(`fake-trustpilot: unexpected ${error instanceof Error ? error.name : typeof error} while answering a request`);
  if (res.headersSent) res.destroy();
  else sendJson(res, 500, { message: 'Internal fake server error' });
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function shutDown(server: Server, state: FakeState): Promise<void> {
  for (const timer of state.timers) clearTimeout(timer);
  state.timers.clear();
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    // Keep-alive sockets would otherwise hold close() open until they time out.
    server.closeAllConnections();
  });
}
