/**
 * `POST /v1/oauth/oauth-business-users-for-applications/accesstoken` and `.../refresh`.
 * Basic auth carries the application's key and secret; the form carries the grant.
 * Only tokens actually issued count towards the mint limit, so a client retrying a wrong
 * password is not additionally punished with 429s.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TOKEN_SPIKE_ARREST_BODY, oauthErrorBody } from '../error-bodies.ts';
import { mediaType, parseBasicAuth, readBody, sendJson, sendRaw } from '../http-io.ts';
import type { FakeState } from '../state.ts';
import type { IssuedToken } from '../tokens.ts';
import type { FakeApplication } from '../types.ts';

export const ACCESS_TOKEN_PATH = '/v1/oauth/oauth-business-users-for-applications/accesstoken';
export const REFRESH_PATH = '/v1/oauth/oauth-business-users-for-applications/refresh';

export async function handleAccessToken(req: IncomingMessage, res: ServerResponse, state: FakeState): Promise<void> {
  const application = authenticateApplication(req, res, state);
  if (application === null) return;
  const form = await readForm(req);
  const grantType = form.get('grant_type');

  if (grantType === 'client_credentials') {
    if (!withinMintLimit(res, state, application)) return;
    sendToken(res, state, state.tokens.issueClientCredentials(application.apiKey));
    return;
  }
  if (grantType === 'password') {
    const username = form.get('username');
    const password = form.get('password');
    if (!username || !password) {
      sendJson(res, 400, oauthErrorBody('invalid_request', 'Required params : username, password'));
      return;
    }
    const user = application.users.find((candidate) => candidate.username === username && candidate.password === password);
    if (user === undefined) {
      sendJson(res, 401, oauthErrorBody('invalid_grant', 'Invalid username or password'));
      return;
    }
    if (!withinMintLimit(res, state, application)) return;
    sendToken(res, state, state.tokens.issueForUser(application.apiKey, user.username));
    return;
  }
  sendGrantTypeError(res, grantType);
}

export async function handleRefresh(req: IncomingMessage, res: ServerResponse, state: FakeState): Promise<void> {
  const application = authenticateApplication(req, res, state);
  if (application === null) return;
  const form = await readForm(req);
  const grantType = form.get('grant_type');
  if (grantType !== 'refresh_token') {
    sendGrantTypeError(res, grantType);
    return;
  }
  const refreshToken = form.get('refresh_token');
  if (!refreshToken) {
    sendJson(res, 400, oauthErrorBody('invalid_request', 'Required param : refresh_token'));
    return;
  }
  const username = state.tokens.refreshTokenOwner(application.apiKey, refreshToken);
  if (username === null) {
    sendJson(res, 401, oauthErrorBody('invalid_grant', 'Invalid Refresh Token'));
    return;
  }
  // Checked before rotating, so a 429 does not burn the caller's refresh token.
  if (!withinMintLimit(res, state, application)) return;
  sendToken(res, state, state.tokens.rotateRefreshToken(application.apiKey, refreshToken, username));
}

function authenticateApplication(req: IncomingMessage, res: ServerResponse, state: FakeState): FakeApplication | null {
  const credentials = parseBasicAuth(req);
  const application = credentials === null ? undefined : state.applications.get(credentials.username);
  if (credentials === null || application === undefined || application.apiSecret !== credentials.password) {
    sendJson(res, 401, oauthErrorBody('invalid_client', 'Client credentials are invalid'), { 'www-authenticate': 'Basic realm="Trustpilot"' });
    return null;
  }
  return application;
}

/** The gateway reads grant parameters from a urlencoded form only; any other body carries none. */
async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const body = await readBody(req);
  return mediaType(req) === 'application/x-www-form-urlencoded' ? new URLSearchParams(body) : new URLSearchParams();
}

function sendGrantTypeError(res: ServerResponse, grantType: string | null): void {
  if (!grantType) sendJson(res, 400, oauthErrorBody('invalid_request', 'Required param : grant_type'));
  else sendJson(res, 400, oauthErrorBody('unsupported_grant_type', 'Unsupported grant type'));
}

function withinMintLimit(res: ServerResponse, state: FakeState, application: FakeApplication): boolean {
  const decision = state.mintLimiter?.take(application.apiKey);
  if (decision === undefined || decision.allowed) return true;
  const retryAfter = state.faultPlan.limiterRetryAfter(decision.retryAfterSeconds);
  sendRaw(res, 429, TOKEN_SPIKE_ARREST_BODY, 'application/json; charset=utf-8', retryAfter === null ? undefined : { 'retry-after': String(retryAfter) });
  return false;
}

function sendToken(res: ServerResponse, state: FakeState, token: IssuedToken): void {
  state.stats.countTokenIssued();
  // Strings, as Trustpilot sends them: expires_in in seconds, issued_at in epoch SECONDS.
  const body: Record<string, string> = {
    access_token: token.accessToken,
    expires_in: String(token.expiresInSeconds),
    issued_at: String(Math.floor(token.issuedAtMs / 1000)),
    token_type: 'BearerToken',
  };
  if (token.refreshToken !== undefined) body.refresh_token = token.refreshToken;
  sendJson(res, 200, body, { 'cache-control': 'no-store' });
}
