/**
 * Token cache behaviour, driven through the real client with a scripted transport that plays
 * Trustpilot, and a hand-driven clock.
 */
import { describe, expect, it } from 'vitest';
import type { InvitationRequest } from '../../src/domain/invitation-request.ts';
import { scriptedTransport, type ScriptedServer } from './scripted-transport.ts';
import { createTrustpilotClient, TokenCache, tokenCacheKey, TrustpilotError, type TrustpilotCredentials } from '../../src/trustpilot/index.ts';

const API = 'https://api.test';
const INVITATIONS = 'https://invitations.test';
const BU = 'bu-123';
const TOKEN_URL = `${API}/v1/oauth/oauth-business-users-for-applications/accesstoken`;
const REFRESH_URL = `${API}/v1/oauth/oauth-business-users-for-applications/refresh`;
const INVITE_URL = `${INVITATIONS}/v1/private/business-units/${BU}/email-invitations`;

const clientCredentials: TrustpilotCredentials = { grant: 'client_credentials', apiKey: 'key-1', apiSecret: 'secret-1', businessUserId: 'user-9' };
const passwordCredentials: TrustpilotCredentials = { grant: 'password', apiKey: 'key-1', apiSecret: 'secret-1', username: 'ops@shop.example', password: 'pw-1' };

const invitation: InvitationRequest = { consumerEmail: 'jane@example.com', consumerName: 'Jane Doe', referenceNumber: 'order-1' };

interface Recorded {
  url: string;
  method: string;
  headers: Headers;
  body: string;
}

type Handler = (request: Recorded) => Response | Promise<Response>;

const jsonResponse = (status: number, body: unknown, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

/** A scripted Trustpilot: issues tpa-1, tpa-2, … and accepts invitations carrying an accepted token. */
function scriptedTrustpilot(options: { expiresIn?: string | number; tokenHandler?: Handler; inviteHandler?: Handler; refreshHandler?: Handler } = {}) {
  const requests: Recorded[] = [];
  let minted = 0;
  const revoked = new Set<string>();
  const issue = (): Response => {
    minted += 1;
    return jsonResponse(200, { access_token: `tpa-${minted}`, refresh_token: `tpr-${minted}`, expires_in: options.expiresIn ?? '3600', issued_at: String(Date.now()) });
  };
  const server: ScriptedServer = async (url, init) => {
    const request: Recorded = { url, method: init.method, headers: new Headers(init.headers), body: init.body ?? '' };
    requests.push(request);
    // Give concurrent callers a chance to pile up, as a real network would.
    await new Promise((resolve) => setTimeout(resolve, 5));
    init.signal.throwIfAborted();
    if (request.url === TOKEN_URL) return options.tokenHandler ? options.tokenHandler(request) : issue();
    if (request.url === REFRESH_URL) return options.refreshHandler ? options.refreshHandler(request) : issue();
    if (options.inviteHandler) return options.inviteHandler(request);
    const token = request.headers.get('authorization')?.replace(/^Bearer /, '') ?? '';
    if (!token.startsWith('tpa-') || revoked.has(token)) {
      return jsonResponse(401, { fault: { faultstring: 'Invalid access token', detail: { errorcode: 'oauth.v2.InvalidAccessToken' } } });
    }
    return jsonResponse(201, { id: `inv-${requests.length}` });
  };
  return {
    transport: scriptedTransport(server),
    requests,
    tokenRequests: () => requests.filter((r) => r.url === TOKEN_URL),
    refreshRequests: () => requests.filter((r) => r.url === REFRESH_URL),
    inviteRequests: () => requests.filter((r) => r.url === INVITE_URL),
    revoke: (token: string) => revoked.add(token),
    issue,
  };
}

function manualClock(start = Date.parse('2025-01-01T00:00:00Z')) {
  let now = start;
  return { now: () => now, advanceSeconds: (s: number) => (now += s * 1000) };
}

function newClient(fake: ReturnType<typeof scriptedTrustpilot>, extra: { credentials?: TrustpilotCredentials; cache?: TokenCache; renewBeforeExpirySeconds?: number } = {}) {
  return createTrustpilotClient({
    apiUrl: API,
    invitationsApiUrl: INVITATIONS,
    credentials: extra.credentials ?? clientCredentials,
    transport: fake.transport,
    tokenCache: extra.cache ?? new TokenCache(),
    ...(extra.renewBeforeExpirySeconds !== undefined ? { renewBeforeExpirySeconds: extra.renewBeforeExpirySeconds } : {}),
  });
}

async function rejectionOf(promise: Promise<unknown>): Promise<TrustpilotError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TrustpilotError);
  return error as TrustpilotError;
}

describe('token requests', () => {
  it('client_credentials: Basic auth, form body, and Bearer + JSON + x-business-user-id on the invitation call', async () => {
    const fake = scriptedTrustpilot();
    const result = await newClient(fake).createInvitation(BU, invitation);
    expect(result).toEqual({ status: 201, id: expect.any(String) as string });

    const [token] = fake.tokenRequests();
    expect(token!.method).toBe('POST');
    expect(token!.headers.get('authorization')).toBe(`Basic ${Buffer.from('key-1:secret-1').toString('base64')}`);
    expect(token!.headers.get('content-type')).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(token!.body))).toEqual({ grant_type: 'client_credentials' });

    const [invite] = fake.inviteRequests();
    expect(invite!.method).toBe('POST');
    expect(invite!.headers.get('authorization')).toBe('Bearer tpa-1');
    expect(invite!.headers.get('content-type')).toBe('application/json');
    expect(invite!.headers.get('x-business-user-id')).toBe('user-9');
    expect(JSON.parse(invite!.body)).toEqual(invitation);
  });

  it('password grant: username and password in the form, no x-business-user-id unless configured', async () => {
    const fake = scriptedTrustpilot();
    await newClient(fake, { credentials: passwordCredentials }).createInvitation(BU, invitation);
    expect(Object.fromEntries(new URLSearchParams(fake.tokenRequests()[0]!.body))).toEqual({
      grant_type: 'password',
      username: 'ops@shop.example',
      password: 'pw-1',
    });
    expect(fake.inviteRequests()[0]!.headers.has('x-business-user-id')).toBe(false);

    const withUser = scriptedTrustpilot();
    await newClient(withUser, { credentials: { ...passwordCredentials, businessUserId: 'user-7' } }).createInvitation(BU, invitation);
    expect(withUser.inviteRequests()[0]!.headers.get('x-business-user-id')).toBe('user-7');
  });

  it('100 concurrent calls share exactly one token request', async () => {
    const fake = scriptedTrustpilot();
    const client = newClient(fake);
    const results = await Promise.all(Array.from({ length: 100 }, () => client.createInvitation(BU, invitation)));
    expect(results).toHaveLength(100);
    expect(fake.tokenRequests()).toHaveLength(1);
    expect(fake.inviteRequests()).toHaveLength(100);
  });

  it('clients sharing a cache and credential set share the token; another user gets its own', async () => {
    const fake = scriptedTrustpilot();
    const cache = new TokenCache();
    await Promise.all([newClient(fake, { cache }).createInvitation(BU, invitation), newClient(fake, { cache }).createInvitation(BU, invitation)]);
    expect(fake.tokenRequests()).toHaveLength(1);
    await newClient(fake, { cache, credentials: passwordCredentials }).createInvitation(BU, invitation);
    expect(fake.tokenRequests()).toHaveLength(2);
    expect(cache.size).toBe(2);
  });

  it('the cache key is a hash that never contains the secret', () => {
    const key = tokenCacheKey(API, clientCredentials);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(tokenCacheKey(`${API}/`, clientCredentials)).toBe(key);
    expect(tokenCacheKey(API, { ...clientCredentials, apiKey: 'key-2' })).not.toBe(key);
    expect(tokenCacheKey('https://other.test', clientCredentials)).not.toBe(key);
  });
});

describe('expiry and renewal', () => {
  it('expires_in is a string of seconds; issued_at (ms here) is ignored; renews ahead of expiry in the background', async () => {
    const clock = manualClock();
    const fake = scriptedTrustpilot({ expiresIn: '3600' });
    const client = newClient(fake, { cache: new TokenCache({ now: clock.now }) });

    await client.createInvitation(BU, invitation);
    clock.advanceSeconds(3000); // default margin: min(10 % of 3600 s, 1 h) = 360 s -> renew from 3240 s
    await client.createInvitation(BU, invitation);
    expect(fake.tokenRequests()).toHaveLength(1);

    clock.advanceSeconds(300); // 3300 s: inside the renewal window, old token still valid
    await client.createInvitation(BU, invitation);
    expect(fake.inviteRequests().at(-1)!.headers.get('authorization')).toBe('Bearer tpa-1');
    await new Promise((resolve) => setTimeout(resolve, 30)); // let the background renewal land
    expect(fake.tokenRequests()).toHaveLength(2);
    await client.createInvitation(BU, invitation);
    expect(fake.inviteRequests().at(-1)!.headers.get('authorization')).toBe('Bearer tpa-2');
  });

  it('an expired token is replaced before the call', async () => {
    const clock = manualClock();
    const fake = scriptedTrustpilot({ expiresIn: 60 });
    const client = newClient(fake, { cache: new TokenCache({ now: clock.now }) });
    await client.createInvitation(BU, invitation);
    clock.advanceSeconds(61);
    await client.createInvitation(BU, invitation);
    expect(fake.tokenRequests()).toHaveLength(2);
    expect(fake.inviteRequests().at(-1)!.headers.get('authorization')).toBe('Bearer tpa-2');
  });

  it('renewBeforeExpirySeconds is honoured but capped at half the lifetime', async () => {
    const clock = manualClock();
    const fake = scriptedTrustpilot({ expiresIn: '100' });
    const client = newClient(fake, { cache: new TokenCache({ now: clock.now, minRenewIntervalSeconds: 0 }), renewBeforeExpirySeconds: 3600 });
    await client.createInvitation(BU, invitation);
    clock.advanceSeconds(49);
    await client.createInvitation(BU, invitation);
    expect(fake.tokenRequests()).toHaveLength(1);
    clock.advanceSeconds(2);
    await client.createInvitation(BU, invitation);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(fake.tokenRequests()).toHaveLength(2);
  });

  it('a failed early renewal keeps the valid token and is not retried on every call', async () => {
    const clock = manualClock();
    let fail = false;
    const fake = scriptedTrustpilot({ expiresIn: '3600', tokenHandler: () => (fail ? new Response('', { status: 503 }) : fake.issue()) });
    const client = newClient(fake, { cache: new TokenCache({ now: clock.now }) });
    await client.createInvitation(BU, invitation);
    fail = true;
    clock.advanceSeconds(3300);
    for (let i = 0; i < 5; i++) await client.createInvitation(BU, invitation);
    await new Promise((resolve) => setTimeout(resolve, 30));
    // The bucket refilled during the hour (burst of two): two attempts, then the rest wait for it.
    expect(fake.tokenRequests()).toHaveLength(3);
    expect(fake.inviteRequests()).toHaveLength(6);
  });

  it.each([
    ['a number', 120, 120],
    ['missing (falls back to 1 h)', undefined, 3600],
    ['garbage (falls back to 1 h)', 'soon', 3600],
    ['zero (floored to 1 s)', '0', 1],
  ])('expires_in as %s', async (_label, expiresIn, expectedSeconds) => {
    const clock = manualClock();
    const fake = scriptedTrustpilot({
      tokenHandler: () => jsonResponse(200, { access_token: `tpa-${clock.now()}`, ...(expiresIn !== undefined ? { expires_in: expiresIn } : {}) }),
    });
    const client = newClient(fake, { cache: new TokenCache({ now: clock.now, minRenewIntervalSeconds: 0 }), renewBeforeExpirySeconds: 0 });
    await client.createInvitation(BU, invitation);
    clock.advanceSeconds(expectedSeconds - 0.01);
    await client.createInvitation(BU, invitation);
    expect(fake.tokenRequests()).toHaveLength(1);
    clock.advanceSeconds(0.02);
    await client.createInvitation(BU, invitation);
    expect(fake.tokenRequests()).toHaveLength(2);
  });
});

describe('401 handling', () => {
  it('a 401 renews once and retries once', async () => {
    const fake = scriptedTrustpilot();
    const client = newClient(fake);
    await client.createInvitation(BU, invitation);
    fake.revoke('tpa-1');
    const result = await client.createInvitation(BU, invitation);
    expect(result.status).toBe(201);
    expect(fake.tokenRequests()).toHaveLength(2);
    expect(fake.inviteRequests().map((r) => r.headers.get('authorization'))).toEqual(['Bearer tpa-1', 'Bearer tpa-1', 'Bearer tpa-2']);
  });

  it('a second 401 is misconfigured ("credentials rejected") and mints nothing more', async () => {
    const fake = scriptedTrustpilot({
      inviteHandler: () => jsonResponse(401, { fault: { faultstring: 'Invalid access token', detail: { errorcode: 'oauth.v2.InvalidAccessToken' } } }),
    });
    const error = await rejectionOf(newClient(fake).createInvitation(BU, invitation));
    expect(error.kind).toBe('misconfigured');
    expect(error.status).toBe(401);
    expect(error.errorCode).toBe('oauth.v2.InvalidAccessToken');
    expect(error.message).toMatch(/credentials rejected/);
    expect(fake.tokenRequests()).toHaveLength(2);
    expect(fake.inviteRequests()).toHaveLength(2);
    for (const text of [error.message, error.responseText ?? '', error.hint ?? '']) {
      expect(text).not.toMatch(/tpa-|secret-1|jane@example.com|Jane/);
    }
  });

  it('a 401 storm of 50 concurrent calls causes exactly one renewal', async () => {
    const fake = scriptedTrustpilot();
    const client = newClient(fake);
    await client.createInvitation(BU, invitation);
    fake.revoke('tpa-1');
    const results = await Promise.all(Array.from({ length: 50 }, () => client.createInvitation(BU, invitation)));
    expect(results.every((r) => r.status === 201)).toBe(true);
    expect(fake.tokenRequests()).toHaveLength(2);
  });

  it('a 401 for a token that was already replaced does not invalidate the new one', async () => {
    const fake = scriptedTrustpilot();
    const cache = new TokenCache({ minRenewIntervalSeconds: 0 });
    const key = tokenCacheKey(API, clientCredentials);
    const client = newClient(fake, { cache });
    await client.createInvitation(BU, invitation);
    fake.revoke('tpa-1');
    await client.createInvitation(BU, invitation); // renews to tpa-2
    cache.reportRejected(key, 'tpa-1'); // a late 401 for the old token
    await client.createInvitation(BU, invitation);
    expect(fake.tokenRequests()).toHaveLength(2);
  });

  it('under a persistent 401 storm minting is capped: burst of two, then one per interval', async () => {
    const clock = manualClock();
    const fake = scriptedTrustpilot({ inviteHandler: () => jsonResponse(401, {}) });
    const client = newClient(fake, { cache: new TokenCache({ now: clock.now, minRenewIntervalSeconds: 10 }) });
    const errors = await Promise.all(Array.from({ length: 20 }, () => rejectionOf(client.createInvitation(BU, invitation))));
    expect(errors.every((e) => e.kind === 'misconfigured')).toBe(true);
    for (let i = 0; i < 20; i++) expect((await rejectionOf(client.createInvitation(BU, invitation))).kind).toBe('misconfigured');
    expect(fake.tokenRequests()).toHaveLength(2);

    clock.advanceSeconds(5);
    await rejectionOf(client.createInvitation(BU, invitation));
    expect(fake.tokenRequests()).toHaveLength(2);
    clock.advanceSeconds(5);
    await rejectionOf(client.createInvitation(BU, invitation));
    expect(fake.tokenRequests()).toHaveLength(3);
    for (let i = 0; i < 10; i++) await rejectionOf(client.createInvitation(BU, invitation));
    expect(fake.tokenRequests()).toHaveLength(3);
  });
});

describe('password grant refresh', () => {
  it('an expired password-grant token is refreshed with grant_type=refresh_token', async () => {
    const clock = manualClock();
    const fake = scriptedTrustpilot({ expiresIn: '60' });
    const client = newClient(fake, { credentials: passwordCredentials, cache: new TokenCache({ now: clock.now }) });
    await client.createInvitation(BU, invitation);
    clock.advanceSeconds(61);
    await client.createInvitation(BU, invitation);
    expect(fake.tokenRequests()).toHaveLength(1);
    const [refresh] = fake.refreshRequests();
    expect(refresh!.headers.get('authorization')).toMatch(/^Basic /);
    expect(Object.fromEntries(new URLSearchParams(refresh!.body))).toEqual({ grant_type: 'refresh_token', refresh_token: 'tpr-1' });
    expect(fake.inviteRequests().at(-1)!.headers.get('authorization')).toBe('Bearer tpa-2');
  });

  it('a refused refresh (4xx) falls back to a fresh password grant', async () => {
    const clock = manualClock();
    const fake = scriptedTrustpilot({ expiresIn: '60', refreshHandler: () => jsonResponse(400, { error: 'invalid_grant' }) });
    const client = newClient(fake, { credentials: passwordCredentials, cache: new TokenCache({ now: clock.now }) });
    await client.createInvitation(BU, invitation);
    clock.advanceSeconds(61);
    await client.createInvitation(BU, invitation);
    expect(fake.refreshRequests()).toHaveLength(1);
    expect(fake.tokenRequests()).toHaveLength(2);
  });

  it('a rate-limited refresh (429) is retryable and does not fall back', async () => {
    const clock = manualClock();
    const fake = scriptedTrustpilot({ expiresIn: '60', refreshHandler: () => jsonResponse(429, {}, { 'retry-after': '30' }) });
    const client = newClient(fake, { credentials: passwordCredentials, cache: new TokenCache({ now: clock.now }) });
    await client.createInvitation(BU, invitation);
    clock.advanceSeconds(61);
    const error = await rejectionOf(client.createInvitation(BU, invitation));
    expect(error.kind).toBe('retryable');
    expect(error.retryAfterMs).toBe(30_000);
    expect(fake.tokenRequests()).toHaveLength(1);
    // Held for Retry-After: the next call does not ask again straight away.
    await rejectionOf(client.createInvitation(BU, invitation));
    expect(fake.refreshRequests()).toHaveLength(1);
  });
});

describe('token endpoint failures', () => {
  it('a 5xx token failure is not cached: the next call tries again', async () => {
    let calls = 0;
    const fake = scriptedTrustpilot({ tokenHandler: () => (++calls === 1 ? new Response('<html>oops</html>', { status: 502 }) : fake.issue()) });
    const client = newClient(fake);
    const error = await rejectionOf(client.createInvitation(BU, invitation));
    expect(error.kind).toBe('retryable');
    expect(error.status).toBe(502);
    expect(fake.inviteRequests()).toHaveLength(0);
    await client.createInvitation(BU, invitation);
    expect(fake.tokenRequests()).toHaveLength(2);
  });

  it('a network failure on the token endpoint is retryable and not cached', async () => {
    let calls = 0;
    const fake = scriptedTrustpilot({
      tokenHandler: () => {
        if (++calls === 1) throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
        return fake.issue();
      },
    });
    const client = newClient(fake);
    const error = await rejectionOf(client.createInvitation(BU, invitation));
    expect(error.kind).toBe('retryable');
    expect(error.errorCode).toBe('ECONNRESET');
    await client.createInvitation(BU, invitation);
  });

  it('401 from the token endpoint is misconfigured, redacted, and not re-asked within the interval', async () => {
    const clock = manualClock();
    const fake = scriptedTrustpilot({
      tokenHandler: (r) => jsonResponse(401, { error: 'invalid_client', error_description: `bad client for body ${r.body}` }),
    });
    const client = newClient(fake, { credentials: passwordCredentials, cache: new TokenCache({ now: clock.now }) });
    const error = await rejectionOf(client.createInvitation(BU, invitation));
    expect(error.kind).toBe('misconfigured');
    expect(error.message).toMatch(/API key\/secret or username\/password/);
    const visible = JSON.stringify(error);
    for (const secret of ['pw-1', 'ops@shop.example', 'secret-1', 'ops%40shop.example']) expect(visible).not.toContain(secret);

    await rejectionOf(client.createInvitation(BU, invitation));
    expect(fake.tokenRequests()).toHaveLength(1);
    clock.advanceSeconds(11);
    await rejectionOf(client.createInvitation(BU, invitation));
    expect(fake.tokenRequests()).toHaveLength(2);
  });

  it('a 200 without an access token (wrong host) is misconfigured', async () => {
    const fake = scriptedTrustpilot({ tokenHandler: () => new Response('<html>Welcome</html>', { status: 200 }) });
    const error = await rejectionOf(newClient(fake).createInvitation(BU, invitation));
    expect(error.kind).toBe('misconfigured');
    expect(error.hint).toMatch(/apiUrl/);
  });

  it('a caller abort while waiting for a shared token rejects only that caller', async () => {
    const fake = scriptedTrustpilot({
      tokenHandler: async () => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        return fake.issue();
      },
    });
    const client = newClient(fake);
    const controller = new AbortController();
    const aborted = client.createInvitation(BU, invitation, { signal: controller.signal });
    const patient = client.createInvitation(BU, invitation);
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    await expect(patient).resolves.toMatchObject({ status: 201 });
    expect(fake.tokenRequests()).toHaveLength(1);
  });
});
