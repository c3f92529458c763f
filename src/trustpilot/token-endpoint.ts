import { classifyResponse } from './classify.ts';
import { TrustpilotError } from './error.ts';
import { sendHttp, type HttpTransport } from './http.ts';
import { tokenCacheKey, type AccessToken, type TokenSource } from './tokens.ts';
import type { TrustpilotCredentials } from './types.ts';

const TOKEN_PATH = '/v1/oauth/oauth-business-users-for-applications/accesstoken';
const REFRESH_PATH = '/v1/oauth/oauth-business-users-for-applications/refresh';

/** Used when `expires_in` is missing or unreadable; a 401 still triggers renewal if it was too optimistic. */
const FALLBACK_LIFETIME_SECONDS = 3600;
/** Floor on any lifetime, so a server answering "0" cannot make us mint on every call. */
const MIN_LIFETIME_SECONDS = 1;
const DEFAULT_RENEW_FRACTION = 0.1;
const DEFAULT_RENEW_CAP_SECONDS = 3600;
/** A configured margin is capped at this fraction of the lifetime, or every call would renew. */
const MAX_RENEW_FRACTION = 0.5;

export interface TokenEndpointConfig {
  apiUrl: string;
  credentials: TrustpilotCredentials;
  transport: HttpTransport;
  timeoutMs: number;
  renewBeforeExpirySeconds?: number;
}

/** `expires_in` is documented as a string of seconds ("359999"); accept a number too. */
export function parseExpiresIn(value: unknown): number {
  const seconds = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  if (!Number.isFinite(seconds)) return FALLBACK_LIFETIME_SECONDS;
  return Math.max(MIN_LIFETIME_SECONDS, seconds);
}

/** Seconds before expiry at which to renew; see TrustpilotClientOptions.renewBeforeExpirySeconds. */
export function renewMarginSeconds(lifetimeSeconds: number, configured?: number): number {
  const wanted = configured ?? Math.min(lifetimeSeconds * DEFAULT_RENEW_FRACTION, DEFAULT_RENEW_CAP_SECONDS);
  return Math.max(0, Math.min(wanted, lifetimeSeconds * MAX_RENEW_FRACTION));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isRefreshableFailure(error: unknown): boolean {
  // A refused refresh token (expired, revoked, unknown) is replaced by a fresh password grant.
  // Rate limiting and timeouts are not: a password grant would be refused or slow just the same.
  return error instanceof TrustpilotError && error.status !== undefined && error.status >= 400 && error.status < 500 && error.status !== 408 && error.status !== 429;
}

/**
 * Talks to the OAuth endpoint. Lifetimes are measured from when the request was SENT, on the
 * local clock; `issued_at` is ignored: it is seconds on some gateways and milliseconds on
 * others, and comparing it with our clock would import the server's clock skew. Starting the
 * clock before the request makes the estimate err on the early side.
 */
export function createTokenSource(config: TokenEndpointConfig): TokenSource {
  const { credentials } = config;
  const apiUrl = config.apiUrl.replace(/\/+$/, '');
  const basic = Buffer.from(`${credentials.apiKey}:${credentials.apiSecret}`, 'utf8').toString('base64');

  async function request(path: string, form: URLSearchParams, now: () => number, refreshToken?: string): Promise<AccessToken> {
    const subject = path === REFRESH_PATH ? 'the access token refresh' : 'the access token request';
    const startedAtMs = now();
    const response = await sendHttp({
      transport: config.transport,
      method: 'POST',
      url: `${apiUrl}${path}`,
      headers: {
        authorization: `Basic ${basic}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: form.toString(),
      timeoutMs: config.timeoutMs,
      context: { subject },
    });
    // grant_type is a protocol word, not data; everything else in the form and the Basic header is secret.
    const sentValues = [
      credentials.apiKey,
      credentials.apiSecret,
      basic,
      refreshToken,
      ...(credentials.grant === 'password' ? [credentials.username, credentials.password] : []),
    ];
    if (!response.ok) throw classifyResponse(response.status, response.headers, response.bodyText, { tokenEndpoint: true, subject, sentValues });

    let body: unknown;
    try {
      body = JSON.parse(response.bodyText) as unknown;
    } catch {
      body = undefined;
    }
    const accessToken = isRecord(body) ? body['access_token'] : undefined;
    if (!isRecord(body) || typeof accessToken !== 'string' || accessToken === '') {
      throw new TrustpilotError(`Trustpilot token endpoint answered ${response.status} without an access token`, {
        kind: 'misconfigured',
        status: response.status,
        hint: 'Check apiUrl: it should point at the Trustpilot API host (e.g. https://api.trustpilot.com).',
      });
    }
    const lifetimeSeconds = parseExpiresIn(body['expires_in']);
    const marginSeconds = renewMarginSeconds(lifetimeSeconds, config.renewBeforeExpirySeconds);
    const newRefreshToken = typeof body['refresh_token'] === 'string' && body['refresh_token'] !== '' ? body['refresh_token'] : refreshToken;
    return {
      accessToken,
      ...(newRefreshToken ? { refreshToken: newRefreshToken } : {}),
      obtainedAtMs: startedAtMs,
      expiresAtMs: startedAtMs + lifetimeSeconds * 1000,
      renewAtMs: startedAtMs + (lifetimeSeconds - marginSeconds) * 1000,
    };
  }

  function grant(now: () => number): Promise<AccessToken> {
    if (credentials.grant === 'client_credentials') {
      return request(TOKEN_PATH, new URLSearchParams({ grant_type: 'client_credentials' }), now);
    }
    return request(
      TOKEN_PATH,
      new URLSearchParams({ grant_type: 'password', username: credentials.username, password: credentials.password }),
      now,
    );
  }

  return {
    key: tokenCacheKey(apiUrl, credentials),
    async mint(previous, now) {
      const refreshToken = credentials.grant === 'password' ? previous?.refreshToken : undefined;
      if (!refreshToken) return grant(now);
      try {
        return await request(REFRESH_PATH, new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }), now, refreshToken);
      } catch (error) {
        if (!isRefreshableFailure(error)) throw error;
        return grant(now);
      }
    },
  };
}
