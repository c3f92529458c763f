/**
 * Contract tests: the real client against the fake Trustpilot over HTTP, for every route,
 * both grants, token renewal, and every error class and fault the fake can produce.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { InvitationRequest } from '../../src/domain/invitation-request.ts';
import { FAKE_DEFAULTS, startFakeTrustpilot, type FakeTrustpilot, type FakeTrustpilotOptions } from '../../src/fake-trustpilot/server.ts';
import {
  createTrustpilotClient,
  nodeTransport,
  TokenCache,
  TrustpilotError,
  type HttpTransport,
  type TransportRequest,
  type TrustpilotClientOptions,
  type TrustpilotCredentials,
} from '../../src/trustpilot/index.ts';

const BU = FAKE_DEFAULTS.businessUnitId;
const TOKEN_PATH = '/v1/oauth/oauth-business-users-for-applications/accesstoken';
const REFRESH_PATH = '/v1/oauth/oauth-business-users-for-applications/refresh';

const clientCredentials: TrustpilotCredentials = {
  grant: 'client_credentials',
  apiKey: FAKE_DEFAULTS.apiKey,
  apiSecret: FAKE_DEFAULTS.apiSecret,
  businessUserId: FAKE_DEFAULTS.businessUserId,
};
const passwordCredentials: TrustpilotCredentials = {
  grant: 'password',
  apiKey: FAKE_DEFAULTS.apiKey,
  apiSecret: FAKE_DEFAULTS.apiSecret,
  username: FAKE_DEFAULTS.username,
  password: FAKE_DEFAULTS.password,
};

const invitation: InvitationRequest = {
  consumerEmail: 'jane.doe@example.com',
  consumerName: 'Jane Doe',
  referenceNumber: 'ORDER-1001',
  locale: 'en-US',
  type: 'email',
  serviceReviewInvitation: { templateId: '5a1b2c3d4e5f60718293a4b5', tags: ['summer'] },
  productReviewInvitation: { productSkus: ['SKU-1'] },
};

/** Strings that must never show up in anything an operator sees. */
const NEVER_VISIBLE = [
  FAKE_DEFAULTS.apiSecret,
  FAKE_DEFAULTS.password,
  FAKE_DEFAULTS.username,
  'tpa-',
  'tpr-',
  'Bearer ',
  invitation.consumerEmail,
  invitation.consumerName,
  'not-an-email',
  Buffer.from(`${FAKE_DEFAULTS.apiKey}:${FAKE_DEFAULTS.apiSecret}`).toString('base64'),
];

const started: FakeTrustpilot[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((fake) => fake.close()));
});

async function startFake(options: FakeTrustpilotOptions = {}): Promise<FakeTrustpilot> {
  const fake = await startFakeTrustpilot({ port: 0, ...options });
  started.push(fake);
  return fake;
}

interface Recorder {
  paths: string[];
  transport: HttpTransport;
}

/** Delegates to the client's own transport, recording paths and optionally rewriting a request. */
function recorder(rewrite?: (path: string, request: TransportRequest) => TransportRequest): Recorder {
  const paths: string[] = [];
  return {
    paths,
    transport: (request) => {
      const path = new URL(request.url).pathname;
      paths.push(path);
      return nodeTransport(rewrite ? rewrite(path, request) : request);
    },
  };
}

function clientFor(fake: FakeTrustpilot, overrides: Partial<TrustpilotClientOptions> = {}) {
  return createTrustpilotClient({
    apiUrl: fake.apiUrl,
    invitationsApiUrl: fake.invitationsApiUrl,
    credentials: clientCredentials,
    tokenCache: new TokenCache(),
    timeoutMs: 5_000,
    ...overrides,
  });
}

async function trustpilotErrorFrom(promise: Promise<unknown>): Promise<TrustpilotError> {
  const error = await promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TrustpilotError);
  const tpError = error as TrustpilotError;
  const visible = [tpError.message, tpError.hint ?? '', tpError.responseText ?? '', JSON.stringify(tpError.details ?? []), JSON.stringify(tpError)].join('\n');
  for (const secret of NEVER_VISIBLE) expect(visible, `leaked ${secret}`).not.toContain(secret);
  return tpError;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('routes (client_credentials)', () => {
  it('createInvitation is accepted and recorded with the business user', async () => {
    const fake = await startFake();
    const result = await clientFor(fake).createInvitation(BU, invitation);
    expect(result.status).toBeGreaterThanOrEqual(200);
    expect(result.status).toBeLessThan(300);
    const [accepted] = fake.accepted();
    expect(result.id).toBe(accepted!.id);
    expect(accepted).toMatchObject({ businessUnitId: BU, apiKey: FAKE_DEFAULTS.apiKey, businessUserId: FAKE_DEFAULTS.businessUserId, body: invitation });
    expect(fake.stats().tokensIssued).toBe(1);
  });

  it('listTemplates returns the templates', async () => {
    const fake = await startFake();
    const templates = await clientFor(fake).listTemplates(BU);
    expect(templates.length).toBeGreaterThan(0);
    expect(templates.filter((t) => t.isDefaultTemplate).length).toBeGreaterThan(0);
    for (const template of templates) {
      expect(Object.keys(template).sort()).toEqual(['id', 'isDefaultTemplate', 'locale', 'name', 'type']);
      expect(template.id).not.toBe('');
      expect(template.locale).toMatch(/^[a-z]{2}-[A-Z]{2}$/);
    }
  });

  it('deleteInvitationData erases by email and by age', async () => {
    const fake = await startFake();
    const client = clientFor(fake);
    await client.createInvitation(BU, invitation);
    await client.createInvitation(BU, { ...invitation, consumerEmail: 'other@example.com', referenceNumber: 'ORDER-2' });
    await client.deleteInvitationData(BU, { customerEmails: [invitation.consumerEmail] });
    expect(fake.accepted().map((a) => a.body.consumerEmail)).toEqual(['other@example.com']);
    await client.deleteInvitationData(BU, { deleteOlderThan: new Date(Date.now() + 60_000).toISOString() });
    expect(fake.accepted()).toEqual([]);
  });

  it('100 concurrent invitations use one token', async () => {
    const fake = await startFake();
    const client = clientFor(fake);
    await Promise.all(Array.from({ length: 100 }, (_, i) => client.createInvitation(BU, { ...invitation, referenceNumber: `ORDER-${i}` })));
    expect(fake.accepted()).toHaveLength(100);
    expect(fake.stats().tokensIssued).toBe(1);
  });

  it('the default process-wide cache shares one token between clients', async () => {
    const fake = await startFake();
    const options = { apiUrl: fake.apiUrl, invitationsApiUrl: fake.invitationsApiUrl, credentials: clientCredentials };
    await createTrustpilotClient(options).createInvitation(BU, invitation);
    await createTrustpilotClient(options).listTemplates(BU);
    expect(fake.stats().tokensIssued).toBe(1);
  });
});

describe('password grant', () => {
  it('works without x-business-user-id and with a valid one', async () => {
    const fake = await startFake();
    await clientFor(fake, { credentials: passwordCredentials }).createInvitation(BU, invitation);
    await clientFor(fake, { credentials: { ...passwordCredentials, businessUserId: FAKE_DEFAULTS.businessUserId } }).createInvitation(BU, invitation);
    expect(fake.accepted().map((a) => a.businessUserId)).toEqual([undefined, FAKE_DEFAULTS.businessUserId]);
  });

  it('refreshes an expired token with the refresh token (short tokenLifetimeSeconds)', async () => {
    const fake = await startFake({ tokenLifetimeSeconds: 1 });
    const rec = recorder();
    const client = clientFor(fake, { credentials: passwordCredentials, transport: rec.transport });
    await client.createInvitation(BU, invitation);
    await sleep(1_100);
    await client.createInvitation(BU, invitation);
    await sleep(1_100);
    await client.listTemplates(BU);
    expect(rec.paths.filter((p) => p === TOKEN_PATH)).toHaveLength(1);
    expect(rec.paths.filter((p) => p === REFRESH_PATH)).toHaveLength(2);
    expect(fake.accepted()).toHaveLength(2);
    expect(fake.stats().byStatus['401']).toBeUndefined();
  });

  it('falls back to a fresh password grant when the refresh token is refused', async () => {
    const fake = await startFake({ tokenLifetimeSeconds: 1 });
    // Corrupt the refresh token in flight: the fake answers 401 invalid_grant.
    const rec = recorder((path, request) =>
      path === REFRESH_PATH && request.body !== undefined ? { ...request, body: request.body.replace(/refresh_token=[^&]+/, 'refresh_token=tpr-unknown') } : request,
    );
    const client = clientFor(fake, { credentials: passwordCredentials, transport: rec.transport });
    await client.createInvitation(BU, invitation);
    await sleep(1_100);
    await client.createInvitation(BU, invitation);
    expect(rec.paths.filter((p) => p === REFRESH_PATH)).toHaveLength(1);
    expect(rec.paths.filter((p) => p === TOKEN_PATH)).toHaveLength(2);
    expect(fake.accepted()).toHaveLength(2);
  });

  it('a wrong password is misconfigured', async () => {
    const fake = await startFake();
    const error = await trustpilotErrorFrom(clientFor(fake, { credentials: { ...passwordCredentials, password: 'wrong-password' } }).createInvitation(BU, invitation));
    expect(error.kind).toBe('misconfigured');
    expect(error.status).toBe(401);
    expect(error.message).toMatch(/API key\/secret or username\/password/);
    expect(error.message).not.toContain('wrong-password');
  });
});

describe('tokens against the fake', () => {
  it('client_credentials tokens are re-minted after expiry', async () => {
    const fake = await startFake({ tokenLifetimeSeconds: 1 });
    const client = clientFor(fake);
    await client.createInvitation(BU, invitation);
    await sleep(1_100);
    await client.createInvitation(BU, invitation);
    expect(fake.stats().tokensIssued).toBe(2);
    expect(fake.stats().byStatus['401']).toBeUndefined();
  });

  it('a 401 for a token the server forgot (fake restarted) renews once and retries once', async () => {
    const first = await startFake();
    const port = Number(new URL(first.url).port);
    const client = clientFor(first);
    await client.createInvitation(BU, invitation);
    await first.close();
    // Let the connection pool notice its keep-alive socket was closed; reusing it would be a
    // (retryable) network error instead of the 401 this test is about.
    await sleep(100);
    const second = await startFake({ port });
    await client.createInvitation(BU, invitation);
    expect(second.stats().byStatus['401']).toBe(1);
    expect(second.stats().tokensIssued).toBe(1);
    expect(second.accepted()).toHaveLength(1);
  });

  it('a persistent 401 (injected) ends as misconfigured "credentials rejected" after exactly one renewal', async () => {
    const fake = await startFake({ faults: { errorRates: { 401: 1 } } });
    const client = clientFor(fake);
    const error = await trustpilotErrorFrom(client.createInvitation(BU, invitation));
    expect(error.kind).toBe('misconfigured');
    expect(error.status).toBe(401);
    expect(error.errorCode).toBe('oauth.v2.InvalidAccessToken');
    expect(error.message).toMatch(/credentials rejected/);
    expect(fake.stats().tokensIssued).toBe(2);
    // The storm goes on; the client does not turn it into a mint storm.
    const errors = await Promise.all(Array.from({ length: 30 }, () => trustpilotErrorFrom(client.createInvitation(BU, invitation))));
    expect(errors.every((e) => e.kind === 'misconfigured')).toBe(true);
    expect(fake.stats().tokensIssued).toBe(2);
    expect(fake.stats().byStatus['429']).toBeUndefined();
  });

  it('a wrong API secret is misconfigured', async () => {
    const fake = await startFake();
    const error = await trustpilotErrorFrom(clientFor(fake, { credentials: { ...clientCredentials, apiSecret: 'wrong-secret' } }).listTemplates(BU));
    expect(error.kind).toBe('misconfigured');
    expect(error.status).toBe(401);
    expect(error.errorCode).toBe('invalid_client');
    expect(JSON.stringify(error)).not.toContain('wrong-secret');
  });

  it('minting beyond the fake limit is a retryable 429 with retryAfterMs', async () => {
    const fake = await startFake({ tokenMintLimitPerMinute: 1 });
    await clientFor(fake).listTemplates(BU);
    // A second, separate cache must mint again and hits the limit.
    const error = await trustpilotErrorFrom(clientFor(fake).listTemplates(BU));
    expect(error.kind).toBe('retryable');
    expect(error.status).toBe(429);
    expect(error.retryAfterMs).toBeGreaterThan(0);
    expect(error.retryAfterMs).toBeLessThanOrEqual(60_000);
  });
});

describe('error classes', () => {
  it('400: rejected, with field details, no personal data', async () => {
    const fake = await startFake();
    const error = await trustpilotErrorFrom(
      clientFor(fake).createInvitation(BU, { ...invitation, consumerEmail: 'not-an-email', locale: 'english' }),
    );
    expect(error.kind).toBe('rejected');
    expect(error.status).toBe(400);
    expect(error.details).toEqual(
      expect.arrayContaining([
        { field: 'consumerEmail', message: expect.any(String) as string },
        { field: 'locale', message: expect.any(String) as string },
      ]),
    );
    expect(error.message).toMatch(/^Trustpilot rejected the invitation \(400\): consumerEmail: /);
    expect(error.responseText).toBeDefined();
    expect(fake.accepted()).toHaveLength(0);
  });

  it('403 errorCode 1014 (wrong x-business-user-id): misconfigured with the business USER id hint', async () => {
    const fake = await startFake();
    const error = await trustpilotErrorFrom(clientFor(fake, { credentials: { ...clientCredentials, businessUserId: 'not-a-business-user' } }).createInvitation(BU, invitation));
    expect(error.kind).toBe('misconfigured');
    expect(error.status).toBe(403);
    expect(error.errorCode).toBe('1014');
    expect(error.message).toMatch(new RegExp(`^Trustpilot refused business user 'not-a-business-user' for business unit '${BU}' \\(403, errorCode 1014\\)`));
    expect(error.message).toMatch(/business USER id/);
    expect(error.message).toMatch(/API key belongs to another business/);
  });

  it('the business UNIT id used as business user id is caught before any request', async () => {
    const fake = await startFake();
    const error = await trustpilotErrorFrom(clientFor(fake, { credentials: { ...clientCredentials, businessUserId: BU } }).createInvitation(BU, invitation));
    expect(error.kind).toBe('misconfigured');
    expect(error.errorCode).toBe('1014');
    expect(fake.stats().requests).toBe(0);
  });

  it('unknown business unit: misconfigured', async () => {
    const fake = await startFake();
    const error = await trustpilotErrorFrom(clientFor(fake).createInvitation('no-such-business-unit', invitation));
    expect(error.kind).toBe('misconfigured');
    expect(error.status).toBe(403);
    expect(error.errorCode).toBe('1010');
    expect(error.message).toMatch(/^Trustpilot forbade the invitation for business unit 'no-such-business-unit' \(403, errorCode 1010\)\. Possible causes: /);
    expect(error.message).toMatch(/Admin or Manager/);
    expect(error.message).toMatch(/Invitation API/);
    expect(error.message).not.toContain(FAKE_DEFAULTS.businessUserId);
  });

  it('404 for a wrong invitations host path: misconfigured', async () => {
    const fake = await startFake();
    const error = await trustpilotErrorFrom(clientFor(fake, { invitationsApiUrl: `${fake.url}/wrong-prefix` }).listTemplates(BU));
    expect(error.kind).toBe('misconfigured');
    expect(error.status).toBe(404);
    expect(error.hint).toMatch(/host/);
  });

  it('404 for a wrong api host path (token endpoint): misconfigured', async () => {
    const fake = await startFake();
    const error = await trustpilotErrorFrom(clientFor(fake, { apiUrl: `${fake.url}/wrong-prefix` }).createInvitation(BU, invitation));
    expect(error.kind).toBe('misconfigured');
    expect(error.status).toBe(404);
  });

  it('415 (wrong content type, forced in flight): misconfigured client bug', async () => {
    const fake = await startFake();
    const rec = recorder((path, request) => (path.endsWith('/email-invitations') ? { ...request, headers: { ...request.headers, 'content-type': 'text/plain' } } : request));
    const error = await trustpilotErrorFrom(clientFor(fake, { transport: rec.transport }).createInvitation(BU, invitation));
    expect(error.kind).toBe('misconfigured');
    expect(error.status).toBe(415);
    expect(error.hint).toMatch(/bug/);
  });

  it('429 from the rate limiter: retryable with retryAfterMs from Retry-After', async () => {
    const fake = await startFake({ rateLimit: { limit: 2, windowSeconds: 60 } });
    const client = clientFor(fake);
    await client.createInvitation(BU, invitation);
    await client.createInvitation(BU, invitation);
    const error = await trustpilotErrorFrom(client.createInvitation(BU, invitation));
    expect(error.kind).toBe('retryable');
    expect(error.status).toBe(429);
    expect(error.retryAfterMs).toBeGreaterThan(0);
    expect(error.retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  it('429 injected with a fixed Retry-After, and without one', async () => {
    const fake = await startFake({ faults: { errorRates: { 429: 1 }, retryAfterSeconds: 7 } });
    const withHeader = await trustpilotErrorFrom(clientFor(fake).createInvitation(BU, invitation));
    expect(withHeader).toMatchObject({ kind: 'retryable', status: 429, retryAfterMs: 7_000 });
    fake.setFaults({ errorRates: { 429: 1 }, retryAfterSeconds: null });
    const withoutHeader = await trustpilotErrorFrom(clientFor(fake).createInvitation(BU, invitation));
    expect(withoutHeader.kind).toBe('retryable');
    expect(withoutHeader.retryAfterMs).toBeUndefined();
  });

  it.each([500, 502, 503, 504, 520])('%i: retryable, whatever the body (JSON, HTML, empty)', async (status) => {
    const fake = await startFake({ faults: { errorRates: { [status]: 1 } } });
    const error = await trustpilotErrorFrom(clientFor(fake).createInvitation(BU, invitation));
    expect(error.kind).toBe('retryable');
    expect(error.status).toBe(status);
    expect(error.hint).toMatch(/may have accepted/);
    if (status === 520) expect(error.responseText).toMatch(/<html/i);
  });

  it('accept-then-drop: a retryable network error, although the fake recorded the invitation', async () => {
    const fake = await startFake({ faults: { acceptThenDropRate: 1 } });
    const error = await trustpilotErrorFrom(clientFor(fake).createInvitation(BU, invitation));
    expect(error.kind).toBe('retryable');
    expect(error.status).toBeUndefined();
    expect(error.hint).toMatch(/may have accepted/);
    expect(fake.accepted()).toHaveLength(1);
    expect(fake.stats().dropped).toBe(1);
  });

  it('latency above timeoutMs: a retryable timeout', async () => {
    const fake = await startFake({ faults: { latencyMs: 1_000 } });
    const started = Date.now();
    const error = await trustpilotErrorFrom(clientFor(fake, { timeoutMs: 200 }).listTemplates(BU));
    expect(Date.now() - started).toBeLessThan(900);
    expect(error.kind).toBe('retryable');
    expect(error.errorCode).toBe('TIMEOUT');
  });

  it('a caller abort during latency propagates as an AbortError', async () => {
    const fake = await startFake({ faults: { latencyMs: 1_000 } });
    const controller = new AbortController();
    const pending = clientFor(fake).createInvitation(BU, invitation, { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });
});
