/**
 * `/admin/...`: inspection and control for dev mode and tests, over HTTP. No auth (the
 * fake listens on localhost; server.ts answers only requests whose Host names it, so a web page
 * cannot reach these through DNS rebinding) and not counted in stats, so polling does not skew them.
 * The JSON invitation list contains consumer emails and names: it is test data, and this
 * route is the only place the fake shows it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidFaultsError } from '../faults.ts';
import { readBody, sendJson, sendRaw } from '../http-io.ts';
import { InvalidRateLimitError, clearState, replaceFaults, replaceRateLimit, type FakeState } from '../state.ts';
import { sendMethodNotAllowed, sendNotFound } from './common.ts';

export const ADMIN_PREFIX = '/admin';

const ADMIN_INDEX = {
  routes: [
    'GET    /admin                 this index',
    'GET    /admin/invitations     accepted email invitations (JSON list)',
    'DELETE /admin/invitations     forget accepted invitations, stats and rate-limit windows (tokens are kept)',
    'GET    /admin/duplicates      same business unit + consumer email + reference number accepted more than once',
    'GET    /admin/stats           request, status, token and drop counters',
    'GET    /admin/faults          current fault injection',
    'PUT    /admin/faults          replace fault injection: { errorRates?, latencyMs?, acceptThenDropRate?, retryAfterSeconds? }',
    'GET    /admin/rate-limit      current invitations rate limit',
    'PUT    /admin/rate-limit      replace it: { limit, windowSeconds } or null (off)',
  ],
};

type AdminHandler = (req: IncomingMessage, res: ServerResponse, state: FakeState) => void | Promise<void>;

const ADMIN_ROUTES = new Map<string, Partial<Record<string, AdminHandler>>>([
  ['', { GET: (_req, res) => sendJson(res, 200, ADMIN_INDEX) }],
  [
    '/invitations',
    {
      GET: (_req, res, state) => sendJson(res, 200, state.invitations.all()),
      DELETE: (_req, res, state) => {
        clearState(state);
        sendRaw(res, 204, '', null);
      },
    },
  ],
  ['/duplicates', { GET: (_req, res, state) => sendJson(res, 200, state.invitations.duplicates()) }],
  ['/stats', { GET: (_req, res, state) => sendJson(res, 200, state.stats.snapshot()) }],
  [
    '/faults',
    {
      GET: (_req, res, state) => sendJson(res, 200, state.faultPlan.faults),
      PUT: async (req, res, state) => {
        const body = await readAdminJson(req, res);
        if (body === INVALID) return;
        try {
          replaceFaults(state, body);
        } catch (error) {
          if (error instanceof InvalidFaultsError) return sendJson(res, 400, { message: error.message });
          throw error;
        }
        sendJson(res, 200, state.faultPlan.faults);
      },
    },
  ],
  [
    '/rate-limit',
    {
      GET: (_req, res, state) => sendJson(res, 200, currentRateLimit(state)),
      PUT: async (req, res, state) => {
        const body = await readAdminJson(req, res);
        if (body === INVALID) return;
        try {
          replaceRateLimit(state, body);
        } catch (error) {
          if (error instanceof InvalidRateLimitError) return sendJson(res, 400, { message: error.message });
          throw error;
        }
        sendJson(res, 200, currentRateLimit(state));
      },
    },
  ],
]);

export async function handleAdminRequest(req: IncomingMessage, res: ServerResponse, state: FakeState, path: string): Promise<void> {
  const subPath = path.slice(ADMIN_PREFIX.length).replace(/\/$/, '');
  const methods = ADMIN_ROUTES.get(subPath);
  if (methods === undefined) return sendNotFound(res);
  const handler = methods[req.method ?? 'GET'];
  if (handler === undefined) return sendMethodNotAllowed(res, Object.keys(methods).join(', '));
  await handler(req, res, state);
}

function currentRateLimit(state: FakeState): { limit: number; windowSeconds: number } | null {
  const limiter = state.rateLimiter;
  return limiter === null ? null : { limit: limiter.limit, windowSeconds: limiter.windowSeconds };
}

const INVALID = Symbol('invalid admin body');

async function readAdminJson(req: IncomingMessage, res: ServerResponse): Promise<unknown> {
  const text = await readBody(req);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    sendJson(res, 400, { message: 'body must be JSON' });
    return INVALID;
  }
}
