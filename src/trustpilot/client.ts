import type { InvitationRequest } from '../domain/invitation-request.ts';
import { classifyResponse } from './classify.ts';
import { TrustpilotError } from './error.ts';
import { HINTS } from './explanations.ts';
import { nodeTransport, sendHttp, type HttpResponse, type HttpTransport } from './http.ts';
import { stringLeavesOf } from './sent-values.ts';
import { createTokenSource } from './token-endpoint.ts';
import { sharedTokenCache, type AccessToken, type TokenCache } from './tokens.ts';
import type {
  CallOptions,
  ClassifyContext,
  DeleteInvitationDataRequest,
  InvitationTemplate,
  TrustpilotClient,
  TrustpilotCredentials,
} from './types.ts';

const DEFAULT_TIMEOUT_MS = 30_000;

export interface TrustpilotClientOptions {
  /** OAuth host, e.g. https://api.trustpilot.com (a path prefix is allowed). */
  apiUrl: string;
  /** Invitations host, e.g. https://invitations-api.trustpilot.com (a path prefix is allowed). */
  invitationsApiUrl: string;
  credentials: TrustpilotCredentials;
  /** Per HTTP call, including reading the body. Default 30 000. */
  timeoutMs?: number;
  /**
   * Renew the access token when fewer than this many seconds of its lifetime remain.
   * Default: min(10 % of the lifetime, 1 hour); a 100-hour Trustpilot token is renewed after
   * 99 hours. Always capped at half the lifetime so a short-lived token is not renewed on every call.
   */
  renewBeforeExpirySeconds?: number;
  /** Default: one process-wide cache, so every client with the same credentials shares one token. */
  tokenCache?: TokenCache;
  /** Default: node:http(s) over keep-alive connections (see nodeTransport). */
  transport?: HttpTransport;
}

interface ApiCall {
  method: 'GET' | 'POST';
  url: string;
  body?: unknown;
  /** Wording for error messages: "Trustpilot rejected <subject> (400)". */
  subject: string;
  /** The business unit in the URL; named in 403/404 messages. */
  businessUnitId: string;
  /** True when a lost answer may hide a completed side effect (no idempotency key exists). */
  mayHaveSideEffects?: boolean;
  signal?: AbortSignal;
}

function misconfigured(message: string, hint?: string): TrustpilotError {
  return new TrustpilotError(message, { kind: 'misconfigured', ...(hint ? { hint } : {}) });
}

function requireHttpUrl(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw misconfigured(`Trustpilot client option ${name} is missing`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw misconfigured(`Trustpilot client option ${name} is not a valid URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw misconfigured(`Trustpilot client option ${name} must be an http(s) URL`);
  if (url.username || url.password) throw misconfigured(`Trustpilot client option ${name} must not contain credentials`);
  if (url.search || url.hash) throw misconfigured(`Trustpilot client option ${name} must not contain a query or fragment`);
  return value.trim().replace(/\/+$/, '');
}

/** Names the missing field, never its value. */
function validateCredentials(credentials: TrustpilotCredentials | undefined): TrustpilotCredentials {
  if (!credentials || (credentials.grant !== 'client_credentials' && credentials.grant !== 'password')) {
    throw misconfigured("Trustpilot credentials.grant must be 'client_credentials' or 'password'");
  }
  const required: string[] = ['apiKey', 'apiSecret'];
  if (credentials.grant === 'client_credentials') required.push('businessUserId');
  else required.push('username', 'password');
  for (const field of required) {
    const value = (credentials as unknown as Record<string, unknown>)[field];
    if (typeof value !== 'string' || value.trim() === '') throw misconfigured(`Trustpilot credentials.${field} is missing`);
  }
  return credentials;
}

function requireBusinessUnitId(businessUnitId: unknown): string {
  if (typeof businessUnitId !== 'string' || businessUnitId.trim() === '') throw misconfigured('Trustpilot business unit id is missing');
  return businessUnitId.trim();
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function unexpectedBody(subject: string, status: number): TrustpilotError {
  // A 2xx that is not the documented JSON usually means the URL points at something that is not Trustpilot.
  return new TrustpilotError(`Trustpilot answered ${subject} (${status}) with an unexpected body`, {
    kind: 'misconfigured',
    status,
    hint: 'Check apiUrl/invitationsApiUrl: they should point at the Trustpilot API hosts.',
  });
}

function templateFrom(value: unknown): InvitationTemplate | undefined {
  if (!isRecord(value) || typeof value['id'] !== 'string') return undefined;
  const text = (key: string): string => (typeof value[key] === 'string' ? value[key] : '');
  return {
    id: value['id'],
    name: text('name'),
    isDefaultTemplate: value['isDefaultTemplate'] === true,
    locale: text('locale'),
    type: text('type'),
  };
}

/**
 * Keys of a request body whose values the code sets to a fixed protocol word (`type: "email"`).
 * They are not data, and treating "email" as a sent value would withhold every message that
 * names the consumerEmail field.
 */
const PROTOCOL_CONSTANT_KEYS = ['type'] as const;

/** Every string a call sends besides the URL: the body's string leaves, the credentials and the tokens. */
function sentValuesOf(call: ApiCall, secrets: readonly string[], tokens: readonly AccessToken[]): string[] {
  return [
    ...stringLeavesOf(call.body, { ignoreKeys: PROTOCOL_CONSTANT_KEYS }),
    ...secrets,
    ...tokens.flatMap((t) => (t.refreshToken === undefined ? [t.accessToken] : [t.accessToken, t.refreshToken])),
  ];
}

export function createTrustpilotClient(options: TrustpilotClientOptions): TrustpilotClient {
  const apiUrl = requireHttpUrl('apiUrl', options.apiUrl);
  const invitationsApiUrl = requireHttpUrl('invitationsApiUrl', options.invitationsApiUrl);
  const credentials = validateCredentials(options.credentials);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw misconfigured('Trustpilot client option timeoutMs must be a positive number');
  const transport = options.transport ?? nodeTransport;
  const tokenCache = options.tokenCache ?? sharedTokenCache;
  const tokenSource = createTokenSource({
    apiUrl,
    credentials,
    transport,
    timeoutMs,
    ...(options.renewBeforeExpirySeconds !== undefined ? { renewBeforeExpirySeconds: options.renewBeforeExpirySeconds } : {}),
  });
  const businessUserId = credentials.businessUserId?.trim() || undefined;
  const secrets = [credentials.apiKey, credentials.apiSecret, ...(credentials.grant === 'password' ? [credentials.password, credentials.username] : [])];
  const invitationsBase = (businessUnitId: string): string =>
    `${invitationsApiUrl}/v1/private/business-units/${encodeURIComponent(requireBusinessUnitId(businessUnitId))}`;

  function send(call: ApiCall, token: AccessToken): Promise<HttpResponse> {
    const headers: Record<string, string> = { authorization: `Bearer ${token.accessToken}`, accept: 'application/json' };
    if (call.body !== undefined) headers['content-type'] = 'application/json';
    if (businessUserId) headers['x-business-user-id'] = businessUserId;
    return sendHttp({
      transport,
      method: call.method,
      url: call.url,
      headers,
      ...(call.body !== undefined ? { body: JSON.stringify(call.body) } : {}),
      timeoutMs,
      ...(call.signal ? { signal: call.signal } : {}),
      context: { subject: call.subject, ...(call.mayHaveSideEffects ? { mayHaveSideEffects: true } : {}) },
      successWithoutBodyIsSuccess: call.mayHaveSideEffects === true,
    });
  }

  function classifyContext(call: ApiCall, tokens: AccessToken[]): ClassifyContext {
    return {
      subject: call.subject,
      ...(call.mayHaveSideEffects ? { mayHaveSideEffects: true } : {}),
      sentValues: sentValuesOf(call, secrets, tokens),
      businessUnitId: call.businessUnitId,
      ...(businessUserId !== undefined ? { businessUserId } : {}),
    };
  }

  /**
   * Sends an authorised call. A 401 gets exactly one renewal and one retry; the token cache
   * decides whether renewing is allowed (it may answer "credentials rejected" instead).
   */
  async function authorisedCall(call: ApiCall): Promise<HttpResponse> {
    const first = await tokenCache.getToken(tokenSource, call.signal);
    let response = await send(call, first);
    const used = [first];
    if (response.status === 401) {
      tokenCache.reportRejected(tokenSource.key, first.accessToken);
      const renewed = await tokenCache.getToken(tokenSource, call.signal);
      used.push(renewed);
      if (renewed.accessToken !== first.accessToken) {
        response = await send(call, renewed);
        if (response.status === 401) tokenCache.reportRejected(tokenSource.key, renewed.accessToken);
      }
    }
    if (!response.ok) throw classifyResponse(response.status, response.headers, response.bodyText, classifyContext(call, used));
    return response;
  }

  /** Fails fast on the most common configuration mistake instead of spending a call on a certain 403. */
  function assertBusinessUserIsNotUnit(businessUnitId: string): void {
    if (businessUserId !== undefined && businessUserId === businessUnitId.trim()) {
      throw new TrustpilotError('Trustpilot businessUserId is set to the business unit id (would fail with 403 errorCode 1014)', {
        kind: 'misconfigured',
        errorCode: '1014',
        hint: HINTS.businessUserIdIsUnitId,
      });
    }
  }

  return {
    async authenticate(callOptions?: CallOptions) {
      await tokenCache.getToken(tokenSource, callOptions?.signal);
    },

    async createInvitation(businessUnitId: string, body: InvitationRequest, callOptions?: CallOptions) {
      const url = `${invitationsBase(businessUnitId)}/email-invitations`;
      assertBusinessUserIsNotUnit(businessUnitId);
      const response = await authorisedCall({
        method: 'POST',
        url,
        body,
        subject: 'the invitation',
        businessUnitId,
        mayHaveSideEffects: true,
        ...(callOptions?.signal ? { signal: callOptions.signal } : {}),
      });
      // The success body is undocumented: take an id when one is there, never fail on its absence.
      const parsed = parseJson(response.bodyText);
      const id = isRecord(parsed) && typeof parsed['id'] === 'string' ? parsed['id'] : undefined;
      return id === undefined ? { status: response.status } : { status: response.status, id };
    },

    async listTemplates(businessUnitId: string, callOptions?: CallOptions) {
      const url = `${invitationsBase(businessUnitId)}/templates`;
      assertBusinessUserIsNotUnit(businessUnitId);
      const subject = 'the template list request';
      const response = await authorisedCall({ method: 'GET', url, subject, businessUnitId, ...(callOptions?.signal ? { signal: callOptions.signal } : {}) });
      const parsed = parseJson(response.bodyText);
      const list = Array.isArray(parsed) ? parsed : isRecord(parsed) ? parsed['templates'] : undefined;
      if (!Array.isArray(list)) throw unexpectedBody(subject, response.status);
      return list.map(templateFrom).filter((t): t is InvitationTemplate => t !== undefined);
    },

    async deleteInvitationData(businessUnitId: string, request: DeleteInvitationDataRequest, callOptions?: CallOptions) {
      const url = `${invitationsBase(businessUnitId)}/invitation-data/delete`;
      assertBusinessUserIsNotUnit(businessUnitId);
      const hasEmails = 'customerEmails' in request && request.customerEmails !== undefined;
      const hasDate = 'deleteOlderThan' in request && request.deleteOlderThan !== undefined;
      // Erasure is irreversible: refuse ambiguous requests locally rather than guess which one was meant.
      if (hasEmails === hasDate) {
        throw new TrustpilotError('deleteInvitationData needs exactly one of customerEmails or deleteOlderThan', { kind: 'rejected' });
      }
      let body: DeleteInvitationDataRequest;
      if ('customerEmails' in request) {
        const emails = request.customerEmails;
        if (!Array.isArray(emails) || emails.length === 0 || !emails.every((e) => typeof e === 'string' && e.trim() !== '')) {
          throw new TrustpilotError('deleteInvitationData customerEmails must be a non-empty list of email addresses', { kind: 'rejected' });
        }
        body = { customerEmails: emails };
      } else {
        if (typeof request.deleteOlderThan !== 'string' || request.deleteOlderThan.trim() === '') {
          throw new TrustpilotError('deleteInvitationData deleteOlderThan must be a non-empty date string', { kind: 'rejected' });
        }
        body = { deleteOlderThan: request.deleteOlderThan };
      }
      await authorisedCall({
        method: 'POST',
        url,
        body,
        subject: 'the invitation data deletion',
        businessUnitId,
        ...(callOptions?.signal ? { signal: callOptions.signal } : {}),
      });
    },
  };
}
