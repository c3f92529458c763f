/**
 * The invitations host: `/v1/private/business-units/{businessUnitId}/...`.
 *
 * Every call passes the same gates, in the order a gateway-fronted service applies them:
 * latency -> injected faults (email-invitations only; a CDN or gateway failure comes before
 * anything else) -> bearer token (401) -> per-application rate limit (429, counts every
 * authenticated call, whatever its outcome) -> x-business-user-id (403/1014) -> known
 * business unit (403/1010) -> Content-Type (415) -> JSON body (400) -> the route itself.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  INVALID_ACCESS_TOKEN_BODY,
  QUOTA_VIOLATION_BODY,
  forbiddenBusinessUserBody,
  unknownBusinessUnitBody,
  validationErrorBody,
} from '../error-bodies.ts';
import { injectedFaultResponse } from '../faults.ts';
import { isAbsent } from '../field-checks.ts';
import { BodyTooLargeError, isPlainObject, mediaType, parseBearerToken, readBody, sendJson, sendRaw, singleHeader } from '../http-io.ts';
import type { FakeState } from '../state.ts';
import { TEMPLATES_RESPONSE_BODY } from '../templates.ts';
import type { AcceptedInvitation } from '../types.ts';
import { validateInvitationRequest } from '../validation.ts';
import { sendMethodNotAllowed, sendNotFound } from './common.ts';

export const BUSINESS_UNITS_PREFIX = '/v1/private/business-units/';

const JSON_TYPE = 'application/json; charset=utf-8';

/** Who is calling, once the gates have let the call through. */
interface AuthorisedCall {
  businessUnitId: string;
  apiKey: string;
  /** the validated x-business-user-id, when one was sent */
  businessUserId?: string;
}

type BusinessUnitHandler = (req: IncomingMessage, res: ServerResponse, state: FakeState, call: AuthorisedCall, body: unknown) => void;

interface BusinessUnitRoute {
  method: 'GET' | 'POST';
  handler: BusinessUnitHandler;
  /** errorRates apply to email-invitations calls only */
  injectsFaults: boolean;
}

const ROUTES = new Map<string, BusinessUnitRoute>([
  ['email-invitations', { method: 'POST', handler: createEmailInvitation, injectsFaults: true }],
  ['templates', { method: 'GET', handler: listTemplates, injectsFaults: false }],
  ['invitation-data/delete', { method: 'POST', handler: deleteInvitationData, injectsFaults: false }],
]);

/** `pathAfterPrefix` is what follows BUSINESS_UNITS_PREFIX, e.g. `abc123/email-invitations`. */
export async function handleBusinessUnitRequest(req: IncomingMessage, res: ServerResponse, state: FakeState, pathAfterPrefix: string): Promise<void> {
  const slash = pathAfterPrefix.indexOf('/');
  const route = slash > 0 ? ROUTES.get(pathAfterPrefix.slice(slash + 1)) : undefined;
  if (route === undefined) return sendNotFound(res);
  if (req.method !== route.method) return sendMethodNotAllowed(res, route.method);
  const businessUnitId = decodePathSegment(pathAfterPrefix.slice(0, slash));
  if (businessUnitId === null) return sendNotFound(res);

  const latencyMs = state.faultPlan.latencyMs;
  if (latencyMs > 0) await delay(state, latencyMs);

  if (route.injectsFaults) {
    const injectedStatus = state.faultPlan.pickErrorStatus();
    if (injectedStatus !== null) {
      const canned = injectedFaultResponse(injectedStatus, state.faultPlan);
      return sendRaw(res, canned.status, canned.body, canned.contentType, canned.headers);
    }
  }

  const call = authorise(req, res, state, businessUnitId);
  if (call === null) return;

  let body: unknown = undefined;
  if (route.method === 'POST') {
    if (mediaType(req) !== 'application/json') {
      return sendJson(res, 415, { message: 'Unsupported Media Type: Content-Type must be application/json' });
    }
    const parsed = await readJsonBody(req, res);
    if (!parsed.ok) return;
    body = parsed.value;
  }
  route.handler(req, res, state, call, body);
}

function decodePathSegment(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

function delay(state: FakeState, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      state.timers.delete(timer);
      resolve();
    }, ms);
    state.timers.add(timer);
  });
}

function authorise(req: IncomingMessage, res: ServerResponse, state: FakeState, businessUnitId: string): AuthorisedCall | null {
  const token = parseBearerToken(req);
  const grant = token === null ? null : state.tokens.lookup(token);
  const application = grant === null ? undefined : state.applications.get(grant.apiKey);
  if (grant === null || application === undefined) {
    sendRaw(res, 401, INVALID_ACCESS_TOKEN_BODY, JSON_TYPE, { 'www-authenticate': 'Bearer' });
    return null;
  }

  const decision = state.rateLimiter?.take(application.apiKey);
  if (decision !== undefined && !decision.allowed) {
    const retryAfter = state.faultPlan.limiterRetryAfter(decision.retryAfterSeconds);
    sendRaw(res, 429, QUOTA_VIOLATION_BODY, JSON_TYPE, retryAfter === null ? undefined : { 'retry-after': String(retryAfter) });
    return null;
  }

  // Client-credentials tokens act for no one in particular, so they must name a business
  // user. Password tokens already belong to one; a header they send must still be valid,
  // because a wrong value is the same misconfiguration either way.
  const header = singleHeader(req, 'x-business-user-id') || undefined;
  const businessUserId = header !== undefined && application.businessUserIds.includes(header) ? header : undefined;
  const headerRequired = grant.grantType === 'client_credentials';
  if ((headerRequired && businessUserId === undefined) || (header !== undefined && businessUserId === undefined)) {
    sendJson(res, 403, forbiddenBusinessUserBody());
    return null;
  }

  if (!state.businessUnits.has(businessUnitId)) {
    sendJson(res, 403, unknownBusinessUnitBody());
    return null;
  }
  return businessUserId === undefined ? { businessUnitId, apiKey: application.apiKey } : { businessUnitId, apiKey: application.apiKey, businessUserId };
}

async function readJsonBody(req: IncomingMessage, res: ServerResponse): Promise<{ ok: true; value: unknown } | { ok: false }> {
  let text: string;
  try {
    text = await readBody(req);
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) throw error;
    sendJson(res, 413, { message: 'Request body too large' });
    return { ok: false };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    sendJson(res, 400, validationErrorBody('Malformed JSON', [{ field: 'body', message: 'is not valid JSON' }]));
    return { ok: false };
  }
}

function createEmailInvitation(req: IncomingMessage, res: ServerResponse, state: FakeState, call: AuthorisedCall, body: unknown): void {
  const validation = validateInvitationRequest(body, { productCatalogue: state.productCatalogue });
  if (!validation.ok) return sendJson(res, 400, validationErrorBody('Invalid invitation request', validation.problems));

  const accepted: AcceptedInvitation = { id: randomUUID(), ...call, receivedAt: new Date().toISOString(), body: validation.invitation };
  state.invitations.record(accepted);
  state.stats.countAccepted();
  if (state.faultPlan.shouldDropAfterAccepting()) {
    // Queued at "Trustpilot", answer lost: the case that makes blind retries send a second email.
    state.stats.countDropped();
    req.socket.destroy();
    return;
  }
  // The real success status and body are undocumented; clients must treat any 2xx as accepted.
  sendJson(res, 202, { id: accepted.id });
}

function listTemplates(_req: IncomingMessage, res: ServerResponse): void {
  sendRaw(res, 200, TEMPLATES_RESPONSE_BODY, JSON_TYPE);
}

function deleteInvitationData(_req: IncomingMessage, res: ServerResponse, state: FakeState, call: AuthorisedCall, body: unknown): void {
  const message = 'Invalid invitation data deletion request';
  if (!isPlainObject(body)) return sendJson(res, 400, validationErrorBody(message, [{ field: 'body', message: 'must be a JSON object' }]));
  const byEmails = !isAbsent(body.customerEmails);
  const byAge = !isAbsent(body.deleteOlderThan);
  if (byEmails === byAge) {
    return sendJson(res, 400, validationErrorBody(message, [{ field: 'body', message: 'exactly one of customerEmails or deleteOlderThan is required' }]));
  }
  if (byEmails) {
    const emails = body.customerEmails;
    if (!Array.isArray(emails) || emails.length === 0 || !emails.every((email) => typeof email === 'string')) {
      return sendJson(res, 400, validationErrorBody(message, [{ field: 'customerEmails', message: 'must be a non-empty array of strings' }]));
    }
    state.invitations.deleteByEmails(call.businessUnitId, emails);
  } else {
    const cutoff = typeof body.deleteOlderThan === 'string' ? Date.parse(body.deleteOlderThan) : Number.NaN;
    if (Number.isNaN(cutoff)) return sendJson(res, 400, validationErrorBody(message, [{ field: 'deleteOlderThan', message: 'must be an ISO-8601 date or date-time' }]));
    state.invitations.deleteOlderThan(call.businessUnitId, cutoff);
  }
  // Erasure is asynchronous at Trustpilot; the answer carries nothing (here it is done at once).
  sendJson(res, 202, {});
}
