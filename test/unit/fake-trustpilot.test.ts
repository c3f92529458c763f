import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { InvitationRequest } from '../../src/domain/invitation-request.ts';
import { TRUSTPILOT_LOCALES } from '../../src/domain/locales.ts';
import {
  FAKE_DEFAULTS,
  UNKNOWN_BUSINESS_UNIT_ERROR_CODE,
  startFakeTrustpilot,
  type FakeApplication,
  type FakeTrustpilot,
  type FakeTrustpilotOptions,
} from '../../src/fake-trustpilot/server.ts';

const INVALID_TOKEN_BODY = '{"fault":{"faultstring":"Invalid access token","detail":{"errorcode":"oauth.v2.InvalidAccessToken"}}}';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TOKEN_PATH = '/v1/oauth/oauth-business-users-for-applications/accesstoken';
const REFRESH_PATH = '/v1/oauth/oauth-business-users-for-applications/refresh';
const BU = FAKE_DEFAULTS.businessUnitId;

const SECOND_APP: FakeApplication = {
  apiKey: 'second-key',
  apiSecret: 'second-secret',
  businessUserIds: ['second-user-id'],
  users: [{ username: 'second@example.com', password: 'second-password' }],
};

const started: FakeTrustpilot[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((fake) => fake.close()));
});

async function start(options: FakeTrustpilotOptions = {}): Promise<FakeTrustpilot> {
  const fake = await startFakeTrustpilot({ port: 0, ...options });
  started.push(fake);
  return fake;
}

function basic(key: string = FAKE_DEFAULTS.apiKey, secret: string = FAKE_DEFAULTS.apiSecret): string {
  return `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}`;
}

function requestToken(fake: FakeTrustpilot, form: Record<string, string>, authorization: string | null = basic(), path = TOKEN_PATH): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (authorization !== null) headers.authorization = authorization;
  return fetch(`${fake.apiUrl}${path}`, { method: 'POST', headers, body: new URLSearchParams(form).toString() });
}

interface TokenBody {
  access_token: string;
  refresh_token?: string;
  expires_in: string;
  issued_at: string;
  token_type: string;
}

async function mint(fake: FakeTrustpilot, form: Record<string, string> = { grant_type: 'client_credentials' }, authorization = basic()): Promise<TokenBody> {
  const response = await requestToken(fake, form, authorization);
  expect(response.status).toBe(200);
  return (await response.json()) as TokenBody;
}

function passwordForm(username: string = FAKE_DEFAULTS.username, password: string = FAKE_DEFAULTS.password): Record<string, string> {
  return { grant_type: 'password', username, password };
}

function validInvitation(overrides: Partial<Record<keyof InvitationRequest, unknown>> = {}): Record<string, unknown> {
  return {
    consumerEmail: 'jane.doe@example.com',
    consumerName: 'Jane Doe',
    referenceNumber: 'ORDER-1001',
    locale: 'en-US',
    senderEmail: 'noreply@shop.example',
    senderName: 'Example Shop',
    replyTo: 'support@shop.example',
    type: 'email',
    serviceReviewInvitation: { templateId: '5a1b2c3d4e5f60718293a4b5', redirectUri: 'https://shop.example/thanks', tags: ['summer'] },
    ...overrides,
  };
}

interface CallOptions {
  token?: string | null;
  businessUserId?: string | null;
  businessUnitId?: string;
  contentType?: string | null;
  rawBody?: string;
}

function postInvitation(fake: FakeTrustpilot, body: unknown, options: CallOptions = {}): Promise<Response> {
  return callBusinessUnit(fake, 'POST', 'email-invitations', body, options);
}

function callBusinessUnit(fake: FakeTrustpilot, method: 'GET' | 'POST', action: string, body: unknown, options: CallOptions = {}): Promise<Response> {
  const headers: Record<string, string> = {};
  if (options.token !== null && options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  const businessUserId = options.businessUserId === undefined ? FAKE_DEFAULTS.businessUserId : options.businessUserId;
  if (businessUserId !== null) headers['x-business-user-id'] = businessUserId;
  const contentType = options.contentType === undefined ? 'application/json' : options.contentType;
  if (method === 'POST' && contentType !== null) headers['content-type'] = contentType;
  const url = `${fake.invitationsApiUrl}/v1/private/business-units/${options.businessUnitId ?? BU}/${action}`;
  return fetch(url, { method, headers, body: method === 'POST' ? (options.rawBody ?? JSON.stringify(body)) : null });
}

/** A server plus a client-credentials token for the default application. */
async function startWithToken(options: FakeTrustpilotOptions = {}): Promise<{ fake: FakeTrustpilot; token: string }> {
  const fake = await start(options);
  const { access_token } = await mint(fake);
  return { fake, token: access_token };
}

interface ValidationBody {
  message: string;
  details: { field: string; message: string }[];
}

async function expectValidationError(response: Response, field: string): Promise<ValidationBody> {
  expect(response.status).toBe(400);
  const body = (await response.json()) as ValidationBody;
  expect(typeof body.message).toBe('string');
  expect(body.details.map((detail) => detail.field)).toContain(field);
  return body;
}

function adminFetch(fake: FakeTrustpilot, path: string, init?: RequestInit): Promise<Response> {
  return fetch(`${fake.url}/admin${path}`, init);
}

describe('fake Trustpilot: OAuth', () => {
  it('issues a client-credentials token shaped like Trustpilot’s, without a refresh token', async () => {
    const fake = await start();
    const before = Math.floor(Date.now() / 1000);
    const token = await mint(fake);
    expect(token.access_token).toMatch(/^tpa-[A-Za-z0-9_-]{20,}$/);
    expect(token.expires_in).toBe('359999');
    expect(token.token_type).toBe('BearerToken');
    expect(token.refresh_token).toBeUndefined();
    // issued_at is epoch SECONDS as a string, not milliseconds
    expect(token.issued_at).toMatch(/^\d{10}$/);
    expect(Number(token.issued_at)).toBeGreaterThanOrEqual(before);
    expect(Number(token.issued_at)).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    expect(fake.stats().tokensIssued).toBe(1);
  });

  it('issues distinct tokens on every mint', async () => {
    const fake = await start();
    const first = await mint(fake);
    const second = await mint(fake);
    expect(first.access_token).not.toBe(second.access_token);
  });

  it('issues access and refresh tokens for the password grant; the access token needs no business user header', async () => {
    const fake = await start();
    const token = await mint(fake, passwordForm());
    expect(token.access_token).toMatch(/^tpa-/);
    expect(token.refresh_token).toMatch(/^tpr-/);
    expect(token.expires_in).toBe('359999');
    const response = await postInvitation(fake, validInvitation(), { token: token.access_token, businessUserId: null });
    expect(response.status).toBe(202);
    expect(fake.accepted()[0]?.businessUserId).toBeUndefined();
  });

  it('answers 401 to a wrong password or an unknown user', async () => {
    const fake = await start();
    for (const form of [passwordForm(FAKE_DEFAULTS.username, 'wrong'), passwordForm('nobody@example.com', FAKE_DEFAULTS.password)]) {
      const response = await requestToken(fake, form);
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ ErrorCode: 'invalid_grant' });
    }
    expect(fake.stats().tokensIssued).toBe(0);
  });

  it('answers 400 to a password grant without username or password', async () => {
    const fake = await start();
    const response = await requestToken(fake, { grant_type: 'password', username: FAKE_DEFAULTS.username });
    expect(response.status).toBe(400);
  });

  it('answers 401 with a JSON error to missing, malformed or wrong Basic credentials', async () => {
    const fake = await start();
    const attempts = [null, basic(FAKE_DEFAULTS.apiKey, 'wrong-secret'), basic('unknown-key', FAKE_DEFAULTS.apiSecret), 'Basic !!!notbase64', 'Bearer something'];
    for (const authorization of attempts) {
      const response = await requestToken(fake, { grant_type: 'client_credentials' }, authorization);
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toMatch(/application\/json/);
      expect(await response.json()).toEqual({ ErrorCode: 'invalid_client', Error: expect.any(String) as string });
    }
  });

  it('answers 400 to an unknown or missing grant type, and to a JSON body (grants are read from the form only)', async () => {
    const fake = await start();
    const unknown = await requestToken(fake, { grant_type: 'authorization_code' });
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ ErrorCode: 'unsupported_grant_type' });
    const missing = await requestToken(fake, {});
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ ErrorCode: 'invalid_request' });
    const json = await fetch(`${fake.apiUrl}${TOKEN_PATH}`, {
      method: 'POST',
      headers: { authorization: basic(), 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials' }),
    });
    expect(json.status).toBe(400);
  });

  it('refreshes: new access and refresh tokens, the new access token works, the old refresh token is retired', async () => {
    const fake = await start();
    const first = await mint(fake, passwordForm());
    const refreshed = await requestToken(fake, { grant_type: 'refresh_token', refresh_token: first.refresh_token ?? '' }, basic(), REFRESH_PATH);
    expect(refreshed.status).toBe(200);
    const second = (await refreshed.json()) as TokenBody;
    expect(second.access_token).toMatch(/^tpa-/);
    expect(second.refresh_token).toMatch(/^tpr-/);
    expect(second.access_token).not.toBe(first.access_token);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(second.expires_in).toBe('359999');
    expect((await postInvitation(fake, validInvitation(), { token: second.access_token, businessUserId: null })).status).toBe(202);

    const reused = await requestToken(fake, { grant_type: 'refresh_token', refresh_token: first.refresh_token ?? '' }, basic(), REFRESH_PATH);
    expect(reused.status).toBe(401);
    expect(fake.stats().tokensIssued).toBe(2);
  });

  it('answers 401 to an unknown refresh token or one issued to another application, 400 to a wrong grant type, 401 to bad Basic auth', async () => {
    const fake = await start({ applications: [{ ...SECOND_APP }, { apiKey: FAKE_DEFAULTS.apiKey, apiSecret: FAKE_DEFAULTS.apiSecret, businessUserIds: [FAKE_DEFAULTS.businessUserId], users: [{ username: FAKE_DEFAULTS.username, password: FAKE_DEFAULTS.password }] }] });
    const unknown = await requestToken(fake, { grant_type: 'refresh_token', refresh_token: 'tpr-unknown' }, basic(), REFRESH_PATH);
    expect(unknown.status).toBe(401);

    const othersToken = await mint(fake, passwordForm('second@example.com', 'second-password'), basic('second-key', 'second-secret'));
    const crossApp = await requestToken(fake, { grant_type: 'refresh_token', refresh_token: othersToken.refresh_token ?? '' }, basic(), REFRESH_PATH);
    expect(crossApp.status).toBe(401);

    const wrongGrant = await requestToken(fake, { grant_type: 'client_credentials' }, basic(), REFRESH_PATH);
    expect(wrongGrant.status).toBe(400);

    const badAuth = await requestToken(fake, { grant_type: 'refresh_token', refresh_token: othersToken.refresh_token ?? '' }, basic('second-key', 'nope'), REFRESH_PATH);
    expect(badAuth.status).toBe(401);
    // the failed attempts did not retire it
    const ok = await requestToken(fake, { grant_type: 'refresh_token', refresh_token: othersToken.refresh_token ?? '' }, basic('second-key', 'second-secret'), REFRESH_PATH);
    expect(ok.status).toBe(200);
  });

  it('expires access tokens after tokenLifetimeSeconds; expired tokens get the gateway 401 body', async () => {
    const fake = await start({ tokenLifetimeSeconds: 1 });
    const token = await mint(fake);
    expect(token.expires_in).toBe('1');
    expect((await postInvitation(fake, validInvitation(), { token: token.access_token })).status).toBe(202);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const expired = await postInvitation(fake, validInvitation(), { token: token.access_token });
    expect(expired.status).toBe(401);
    expect(await expired.text()).toBe(INVALID_TOKEN_BODY);
    expect(fake.accepted()).toHaveLength(1);
  });

  it('answers 429 once an application mints more than 10 tokens a minute; other applications are unaffected', async () => {
    const fake = await start({ applications: [{ apiKey: FAKE_DEFAULTS.apiKey, apiSecret: FAKE_DEFAULTS.apiSecret, businessUserIds: [FAKE_DEFAULTS.businessUserId], users: [] }, SECOND_APP] });
    for (let i = 0; i < 10; i += 1) await mint(fake);
    const limited = await requestToken(fake, { grant_type: 'client_credentials' });
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await limited.json()).toMatchObject({ fault: { detail: { errorcode: 'policies.ratelimit.SpikeArrestViolation' } } });
    expect(fake.stats().tokensIssued).toBe(10);
    await mint(fake, { grant_type: 'client_credentials' }, basic('second-key', 'second-secret'));
    fake.clear();
    await mint(fake);
  });

  it('counts refreshes towards the mint limit and does not burn the refresh token on a 429', async () => {
    const fake = await start({ tokenMintLimitPerMinute: 1 });
    const first = await mint(fake, passwordForm());
    const limited = await requestToken(fake, { grant_type: 'refresh_token', refresh_token: first.refresh_token ?? '' }, basic(), REFRESH_PATH);
    expect(limited.status).toBe(429);
    fake.clear();
    const afterClear = await requestToken(fake, { grant_type: 'refresh_token', refresh_token: first.refresh_token ?? '' }, basic(), REFRESH_PATH);
    expect(afterClear.status).toBe(200);
  });

  it('does not limit minting when tokenMintLimitPerMinute is null', async () => {
    const fake = await start({ tokenMintLimitPerMinute: null });
    for (let i = 0; i < 25; i += 1) await mint(fake);
    expect(fake.stats().tokensIssued).toBe(25);
  });
});

describe('fake Trustpilot: email invitations, gates', () => {
  it('accepts a valid invitation with 202 and records who sent what', async () => {
    const { fake, token } = await startWithToken();
    const before = Date.now();
    const response = await postInvitation(fake, validInvitation(), { token });
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };
    expect(id).toMatch(UUID);
    const [accepted] = fake.accepted();
    expect(accepted).toMatchObject({ id, businessUnitId: BU, apiKey: FAKE_DEFAULTS.apiKey, businessUserId: FAKE_DEFAULTS.businessUserId });
    expect(accepted?.body).toEqual(validInvitation());
    expect(Date.parse(accepted?.receivedAt ?? '')).toBeGreaterThanOrEqual(before - 1);
    expect(fake.stats()).toMatchObject({ accepted: 1, byStatus: { '200': 1, '202': 1 } });
  });

  it('answers 401 with the exact gateway body to a missing, unknown or non-Bearer token', async () => {
    const { fake, token } = await startWithToken();
    const cases: Promise<Response>[] = [
      postInvitation(fake, validInvitation(), { token: null }),
      postInvitation(fake, validInvitation(), { token: 'tpa-not-a-real-token' }),
      fetch(`${fake.url}/v1/private/business-units/${BU}/email-invitations`, {
        method: 'POST',
        headers: { authorization: basic(), 'content-type': 'application/json', 'x-business-user-id': FAKE_DEFAULTS.businessUserId },
        body: JSON.stringify(validInvitation()),
      }),
    ];
    for (const response of await Promise.all(cases)) {
      expect(response.status).toBe(401);
      expect(await response.text()).toBe(INVALID_TOKEN_BODY);
    }
    expect((await postInvitation(fake, validInvitation(), { token })).status).toBe(202);
  });

  it('answers 403 errorCode 1014 when a client-credentials call lacks a valid x-business-user-id (including the business UNIT id)', async () => {
    const { fake, token } = await startWithToken();
    for (const businessUserId of [null, 'someone-else', BU, '']) {
      const response = await postInvitation(fake, validInvitation(), { token, businessUserId });
      expect(response.status).toBe(403);
      const body = (await response.json()) as { message: string; errorCode: number; correlationId: string };
      expect(body).toEqual({ message: 'Access to resource is forbidden', errorCode: 1014, correlationId: expect.stringMatching(UUID) as string });
    }
    expect(fake.accepted()).toEqual([]);
  });

  it('answers 403 1014 to a password-grant token that sends a wrong x-business-user-id', async () => {
    const fake = await start();
    const { access_token } = await mint(fake, passwordForm());
    const response = await postInvitation(fake, validInvitation(), { token: access_token, businessUserId: BU });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ errorCode: 1014 });
  });

  it('answers 403 with a different errorCode for an unknown business unit', async () => {
    const { fake, token } = await startWithToken({ businessUnits: ['bu-a', 'bu-b'] });
    expect((await postInvitation(fake, validInvitation(), { token, businessUnitId: 'bu-b' })).status).toBe(202);
    const response = await postInvitation(fake, validInvitation(), { token, businessUnitId: BU });
    expect(response.status).toBe(403);
    const body = (await response.json()) as { errorCode: number; correlationId: string };
    expect(body.errorCode).toBe(UNKNOWN_BUSINESS_UNIT_ERROR_CODE);
    expect(body.errorCode).not.toBe(1014);
    expect(body.correlationId).toMatch(UUID);
  });

  it('answers 415 unless Content-Type is application/json (parameters allowed)', async () => {
    const { fake, token } = await startWithToken();
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', null]) {
      const response = await postInvitation(fake, validInvitation(), { token, contentType });
      expect(response.status).toBe(415);
    }
    expect((await postInvitation(fake, validInvitation(), { token, contentType: 'application/json; charset=utf-8' })).status).toBe(202);
    expect((await postInvitation(fake, validInvitation(), { token, contentType: 'Application/JSON' })).status).toBe(202);
    expect(fake.accepted()).toHaveLength(2);
  });
});

describe('fake Trustpilot: email invitations, validation', () => {
  const catalogue = ['SKU-1', 'SKU-2'];
  const cases: { name: string; body: Record<string, unknown>; field: string }[] = [
    { name: 'missing consumerEmail', body: validInvitation({ consumerEmail: undefined }), field: 'consumerEmail' },
    { name: 'missing consumerName', body: validInvitation({ consumerName: undefined }), field: 'consumerName' },
    { name: 'blank consumerName', body: validInvitation({ consumerName: '   ' }), field: 'consumerName' },
    { name: 'missing referenceNumber', body: validInvitation({ referenceNumber: undefined }), field: 'referenceNumber' },
    { name: 'numeric referenceNumber', body: validInvitation({ referenceNumber: 1001 }), field: 'referenceNumber' },
    { name: 'malformed consumerEmail', body: validInvitation({ consumerEmail: 'jane.doe.example.com' }), field: 'consumerEmail' },
    { name: 'consumerEmail with a space', body: validInvitation({ consumerEmail: 'jane doe@example.com' }), field: 'consumerEmail' },
    { name: 'consumerEmail without a dotted domain', body: validInvitation({ consumerEmail: 'jane@localhost' }), field: 'consumerEmail' },
    { name: 'malformed senderEmail', body: validInvitation({ senderEmail: 'noreply@' }), field: 'senderEmail' },
    { name: 'malformed replyTo', body: validInvitation({ replyTo: 'support' }), field: 'replyTo' },
    { name: 'lower-case region', body: validInvitation({ locale: 'en-us' }), field: 'locale' },
    { name: 'language only', body: validInvitation({ locale: 'en' }), field: 'locale' },
    { name: 'unsupported locale', body: validInvitation({ locale: 'xx-XX' }), field: 'locale' },
    { name: 'type other than email', body: validInvitation({ type: 'sms' }), field: 'type' },
    { name: 'ftp redirectUri', body: validInvitation({ serviceReviewInvitation: { redirectUri: 'ftp://shop.example/x' } }), field: 'serviceReviewInvitation.redirectUri' },
    { name: 'javascript redirectUri', body: validInvitation({ serviceReviewInvitation: { redirectUri: 'javascript:alert(1)' } }), field: 'serviceReviewInvitation.redirectUri' },
    { name: 'relative redirectUri', body: validInvitation({ serviceReviewInvitation: { redirectUri: '/thanks' } }), field: 'serviceReviewInvitation.redirectUri' },
    {
      name: 'product redirectUri',
      body: validInvitation({ productReviewInvitation: { productSkus: ['SKU-1'], redirectUri: 'not a url' } }),
      field: 'productReviewInvitation.redirectUri',
    },
    { name: 'tags as a string', body: validInvitation({ serviceReviewInvitation: { tags: 'summer' } }), field: 'serviceReviewInvitation.tags' },
    { name: 'tags with a number', body: validInvitation({ serviceReviewInvitation: { tags: ['summer', 7] } }), field: 'serviceReviewInvitation.tags' },
    { name: 'serviceReviewInvitation not an object', body: validInvitation({ serviceReviewInvitation: 'yes' }), field: 'serviceReviewInvitation' },
    {
      name: 'both products and productSkus',
      body: validInvitation({ productReviewInvitation: { productSkus: ['SKU-1'], products: [{ sku: 'SKU-1', name: 'Mug' }] } }),
      field: 'productReviewInvitation',
    },
    { name: 'neither products nor productSkus', body: validInvitation({ productReviewInvitation: {} }), field: 'productReviewInvitation' },
    { name: 'empty productSkus', body: validInvitation({ productReviewInvitation: { productSkus: [] } }), field: 'productReviewInvitation.productSkus' },
    {
      name: 'SKU missing from the catalogue',
      body: validInvitation({ productReviewInvitation: { productSkus: ['SKU-1', 'SKU-404'] } }),
      field: 'productReviewInvitation.productSkus[1]',
    },
    {
      name: 'unparseable service preferredSendTime',
      body: validInvitation({ serviceReviewInvitation: { preferredSendTime: 'tomorrow morning' } }),
      field: 'serviceReviewInvitation.preferredSendTime',
    },
    {
      name: 'impossible date',
      body: validInvitation({ serviceReviewInvitation: { preferredSendTime: '2013-02-30T13:37:00' } }),
      field: 'serviceReviewInvitation.preferredSendTime',
    },
    {
      name: 'non-UTC offset',
      body: validInvitation({ serviceReviewInvitation: { preferredSendTime: '2013-09-07T13:37:00+02:00' } }),
      field: 'serviceReviewInvitation.preferredSendTime',
    },
    {
      name: 'unparseable product preferredSendTime',
      body: validInvitation({ productReviewInvitation: { productSkus: ['SKU-1'], preferredSendTime: '2013/09/07 13:37' } }),
      field: 'productReviewInvitation.preferredSendTime',
    },
    {
      name: 'service time equal to product time',
      body: validInvitation({
        serviceReviewInvitation: { preferredSendTime: '2030-09-07T13:37:00Z' },
        productReviewInvitation: { productSkus: ['SKU-1'], preferredSendTime: '09/07/2030 13:37:00' },
      }),
      field: 'serviceReviewInvitation.preferredSendTime',
    },
    {
      name: 'service time after product time',
      body: validInvitation({
        serviceReviewInvitation: { preferredSendTime: '2030-09-08T00:00:00' },
        productReviewInvitation: { productSkus: ['SKU-1'], preferredSendTime: '2030-09-07T13:37:00' },
      }),
      field: 'serviceReviewInvitation.preferredSendTime',
    },
  ];

  it.each(cases)('answers 400 for $name', async ({ body, field }) => {
    const { fake, token } = await startWithToken({ productCatalogue: catalogue });
    await expectValidationError(await postInvitation(fake, JSON.parse(JSON.stringify(body)), { token }), field);
    expect(fake.accepted()).toEqual([]);
  });

  it('names every bad field in one answer and never echoes submitted values', async () => {
    const { fake, token } = await startWithToken();
    const response = await postInvitation(fake, { consumerEmail: 'secret-person@', locale: 'secret-person@example.com' }, { token });
    const body = await expectValidationError(response, 'consumerEmail');
    expect(body.details.map((detail) => detail.field).sort()).toEqual(['consumerEmail', 'consumerName', 'locale', 'referenceNumber']);
    expect(JSON.stringify(body)).not.toContain('secret-person');
  });

  it('answers 400 to malformed JSON and to a body that is not an object', async () => {
    const { fake, token } = await startWithToken();
    await expectValidationError(await postInvitation(fake, null, { token, rawBody: '{"consumerEmail": ' }), 'body');
    await expectValidationError(await postInvitation(fake, [validInvitation()], { token }), 'body');
    expect(fake.accepted()).toEqual([]);
  });

  it('accepts both documented send-time formats, milliseconds and Z, when service is earlier than product', async () => {
    const { fake, token } = await startWithToken({ productCatalogue: catalogue });
    const bodies = [
      validInvitation({ serviceReviewInvitation: { preferredSendTime: '2013-09-07T13:37:00' } }),
      validInvitation({ serviceReviewInvitation: { preferredSendTime: '2013-09-07T13:37:00Z' } }),
      validInvitation({ serviceReviewInvitation: { preferredSendTime: '2013-09-07T13:37:00.123Z' } }),
      validInvitation({ serviceReviewInvitation: { preferredSendTime: '09/07/2013 13:37:00' } }),
      validInvitation({
        serviceReviewInvitation: { preferredSendTime: '2030-09-07T13:37:00Z' },
        productReviewInvitation: { productSkus: ['SKU-1', 'SKU-2'], preferredSendTime: '09/07/2030 13:37:01' },
      }),
    ];
    for (const body of bodies) expect((await postInvitation(fake, body, { token })).status).toBe(202);
    expect(fake.accepted()).toHaveLength(bodies.length);
  });

  it('is lenient where the real API is: unknown fields, nulls and absent optional parts', async () => {
    const { fake, token } = await startWithToken();
    const bodies = [
      validInvitation({ somethingNew: { nested: true } } as Record<string, unknown>),
      { consumerEmail: 'a@b.example', consumerName: 'A', referenceNumber: 'R-1' },
      validInvitation({ senderEmail: null, locale: null, serviceReviewInvitation: null }),
      validInvitation({ serviceReviewInvitation: undefined, productReviewInvitation: { products: [{ sku: 'X', name: 'Mug' }] } }),
    ];
    for (const body of bodies) expect((await postInvitation(fake, body, { token })).status).toBe(202);
    expect(fake.accepted()[0]?.body).toMatchObject({ somethingNew: { nested: true } });
  });

  it('accepts any SKU when no catalogue is configured', async () => {
    const { fake, token } = await startWithToken();
    const response = await postInvitation(fake, validInvitation({ productReviewInvitation: { productSkus: ['ANYTHING-AT-ALL'] } }), { token });
    expect(response.status).toBe(202);
  });

  it('accepts every locale of the shared list', async () => {
    const { fake, token } = await startWithToken({ rateLimit: null });
    for (const locale of TRUSTPILOT_LOCALES) expect((await postInvitation(fake, validInvitation({ locale }), { token })).status).toBe(202);
  });
});

describe('fake Trustpilot: rate limit', () => {
  it('answers 429 with Retry-After once an application exceeds its window, counting every invitations-host call', async () => {
    const fake = await start({ rateLimit: { limit: 3, windowSeconds: 60 }, applications: [{ ...SECOND_APP }, { apiKey: FAKE_DEFAULTS.apiKey, apiSecret: FAKE_DEFAULTS.apiSecret, businessUserIds: [FAKE_DEFAULTS.businessUserId], users: [] }] });
    const { access_token: token } = await mint(fake);
    expect((await postInvitation(fake, validInvitation(), { token })).status).toBe(202);
    expect((await postInvitation(fake, validInvitation({ consumerEmail: 'bad' }), { token })).status).toBe(400);
    expect((await callBusinessUnit(fake, 'GET', 'templates', undefined, { token })).status).toBe(200);
    const limited = await postInvitation(fake, validInvitation(), { token });
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await limited.json()).toMatchObject({ fault: { detail: { errorcode: 'policies.ratelimit.QuotaViolation' } } });
    expect((await callBusinessUnit(fake, 'GET', 'templates', undefined, { token })).status).toBe(429);
    expect(fake.accepted()).toHaveLength(1);

    const other = await mint(fake, { grant_type: 'client_credentials' }, basic('second-key', 'second-secret'));
    expect((await postInvitation(fake, validInvitation(), { token: other.access_token, businessUserId: 'second-user-id' })).status).toBe(202);

    fake.clear();
    expect((await postInvitation(fake, validInvitation(), { token })).status).toBe(202);
    fake.setRateLimit(null);
    for (let i = 0; i < 5; i += 1) expect((await postInvitation(fake, validInvitation(), { token })).status).toBe(202);
  });

  it('applies the default limit of 833 calls per 5 minutes', async () => {
    const { fake, token } = await startWithToken();
    const statuses: number[] = [];
    for (let batch = 0; batch < 834; batch += 50) {
      const size = Math.min(50, 834 - batch);
      const answers = await Promise.all(Array.from({ length: size }, () => callBusinessUnit(fake, 'GET', 'templates', undefined, { token })));
      for (const answer of answers) statuses.push(answer.status);
    }
    expect(statuses.filter((status) => status === 200)).toHaveLength(833);
    expect(statuses.filter((status) => status === 429)).toHaveLength(1);
  });

  it('omits Retry-After when retryAfterSeconds is null and sends the configured value when it is a number', async () => {
    const { fake, token } = await startWithToken({ rateLimit: { limit: 1, windowSeconds: 300 }, faults: { retryAfterSeconds: null } });
    await postInvitation(fake, validInvitation(), { token });
    const withoutHeader = await postInvitation(fake, validInvitation(), { token });
    expect(withoutHeader.status).toBe(429);
    expect(withoutHeader.headers.get('retry-after')).toBeNull();
    fake.setFaults({ retryAfterSeconds: 7 });
    const withHeader = await postInvitation(fake, validInvitation(), { token });
    expect(withHeader.headers.get('retry-after')).toBe('7');
  });
});

describe('fake Trustpilot: fault injection', () => {
  it('injects 503 with an empty body before any other check and records nothing', async () => {
    const fake = await start({ faults: { errorRates: { 503: 1 } } });
    const response = await postInvitation(fake, validInvitation(), { token: null });
    expect(response.status).toBe(503);
    expect(await response.text()).toBe('');
    expect(fake.accepted()).toEqual([]);
    expect(fake.stats().byStatus).toEqual({ '503': 1 });
  });

  it('injects 520 with an HTML page, 500 with JSON, and 429 without Retry-After unless configured', async () => {
    const { fake, token } = await startWithToken({ faults: { errorRates: { 520: 1 } } });
    const html = await postInvitation(fake, validInvitation(), { token });
    expect(html.status).toBe(520);
    expect(html.headers.get('content-type')).toMatch(/text\/html/);
    expect(await html.text()).toMatch(/^<!DOCTYPE html>/);

    fake.setFaults({ errorRates: { 500: 1 } });
    const json = await postInvitation(fake, validInvitation(), { token });
    expect(json.status).toBe(500);
    expect(await json.json()).toHaveProperty('message');

    fake.setFaults({ errorRates: { 429: 1 } });
    const throttled = await postInvitation(fake, validInvitation(), { token });
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBeNull();

    fake.setFaults({ errorRates: { 429: 1 }, retryAfterSeconds: 3 });
    expect((await postInvitation(fake, validInvitation(), { token })).headers.get('retry-after')).toBe('3');
    expect(fake.accepted()).toEqual([]);
  });

  it('applies error rates to email invitations only', async () => {
    const { fake, token } = await startWithToken({ faults: { errorRates: { 500: 1 } } });
    expect((await callBusinessUnit(fake, 'GET', 'templates', undefined, { token })).status).toBe(200);
  });

  it('injects a fraction of errors at a partial rate', async () => {
    const { fake, token } = await startWithToken({ rateLimit: null, faults: { errorRates: { 500: 0.5 } } });
    const statuses = await Promise.all(Array.from({ length: 200 }, () => postInvitation(fake, validInvitation(), { token }).then((response) => response.status)));
    const failures = statuses.filter((status) => status === 500).length;
    expect(failures).toBeGreaterThan(50);
    expect(failures).toBeLessThan(150);
    expect(fake.accepted()).toHaveLength(200 - failures);
  });

  it('adds latency to every invitations-host request but not to the api host', async () => {
    const { fake, token } = await startWithToken({ faults: { latencyMs: 300 } });
    let startedAt = performance.now();
    expect((await postInvitation(fake, validInvitation(), { token })).status).toBe(202);
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(290);
    startedAt = performance.now();
    expect((await callBusinessUnit(fake, 'GET', 'templates', undefined, { token })).status).toBe(200);
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(290);
    startedAt = performance.now();
    expect((await requestToken(fake, { grant_type: 'client_credentials' })).status).toBe(200);
    expect(performance.now() - startedAt).toBeLessThan(250);
  });

  it('accept-then-drop: the invitation is recorded but the caller gets no answer', async () => {
    const { fake, token } = await startWithToken({ faults: { acceptThenDropRate: 1 } });
    await expect(postInvitation(fake, validInvitation(), { token })).rejects.toThrow();
    expect(fake.accepted()).toHaveLength(1);
    expect(fake.accepted()[0]?.body.referenceNumber).toBe('ORDER-1001');
    expect(fake.stats()).toMatchObject({ accepted: 1, dropped: 1 });
    expect(fake.stats().byStatus['202']).toBeUndefined();

    fake.setFaults({});
    expect((await postInvitation(fake, validInvitation(), { token })).status).toBe(202);
  });

  it('does not drop invalid invitations: validation answers first', async () => {
    const { fake, token } = await startWithToken({ faults: { acceptThenDropRate: 1 } });
    expect((await postInvitation(fake, validInvitation({ consumerEmail: 'x' }), { token })).status).toBe(400);
    expect(fake.accepted()).toEqual([]);
  });

  it('refuses invalid faults and rate limits programmatically', async () => {
    const fake = await start();
    expect(() => fake.setFaults({ errorRates: { 500: 1.5 } })).toThrow(/probability/);
    expect(() => fake.setFaults({ errorRates: { 200: 0.5 } })).toThrow(/status/);
    expect(() => fake.setFaults({ latencyMs: -1 })).toThrow(/latencyMs/);
    expect(() => fake.setFaults({ acceptThenDropRate: 2 })).toThrow(/acceptThenDropRate/);
    expect(() => fake.setRateLimit({ limit: 0, windowSeconds: 60 })).toThrow(/limit/);
    expect(() => fake.setRateLimit({ limit: 5, windowSeconds: 0 })).toThrow(/windowSeconds/);
    await expect(start({ tokenLifetimeSeconds: 0 })).rejects.toThrow(/tokenLifetimeSeconds/);
  });
});

describe('fake Trustpilot: duplicates', () => {
  it('reports the same business unit + consumer email (any case) + reference number accepted more than once', async () => {
    const { fake, token } = await startWithToken();
    await postInvitation(fake, validInvitation(), { token });
    await postInvitation(fake, validInvitation({ consumerEmail: 'Jane.Doe@Example.com' }), { token });
    await postInvitation(fake, validInvitation(), { token });
    await postInvitation(fake, validInvitation({ referenceNumber: 'ORDER-1002' }), { token });
    await postInvitation(fake, validInvitation({ consumerEmail: 'john@example.com' }), { token });
    expect(fake.duplicates()).toEqual([{ businessUnitId: BU, consumerEmail: 'jane.doe@example.com', referenceNumber: 'ORDER-1001', count: 3 }]);
    const viaAdmin = await adminFetch(fake, '/duplicates');
    expect(await viaAdmin.json()).toEqual(fake.duplicates());
  });

  it('reports nothing when every invitation is distinct', async () => {
    const { fake, token } = await startWithToken();
    await postInvitation(fake, validInvitation(), { token });
    await postInvitation(fake, validInvitation({ referenceNumber: 'ORDER-2' }), { token });
    expect(fake.duplicates()).toEqual([]);
  });
});

describe('fake Trustpilot: other endpoints', () => {
  it('lists a few fixed templates, one default per review type', async () => {
    const { fake, token } = await startWithToken();
    const response = await callBusinessUnit(fake, 'GET', 'templates', undefined, { token });
    expect(response.status).toBe(200);
    const { templates } = (await response.json()) as { templates: Record<string, unknown>[] };
    expect(templates.length).toBeGreaterThanOrEqual(2);
    for (const template of templates) {
      expect(Object.keys(template).sort()).toEqual(['id', 'isDefaultTemplate', 'locale', 'name', 'type']);
      expect(template.id).toMatch(/^[0-9a-f]{24}$/);
    }
    expect(templates.some((template) => template.isDefaultTemplate === true)).toBe(true);
  });

  it('guards templates like every other invitations-host route', async () => {
    const { fake, token } = await startWithToken();
    expect((await callBusinessUnit(fake, 'GET', 'templates', undefined, { token: null })).status).toBe(401);
    expect((await callBusinessUnit(fake, 'GET', 'templates', undefined, { token, businessUserId: null })).status).toBe(403);
    expect((await callBusinessUnit(fake, 'GET', 'templates', undefined, { token, businessUnitId: 'nope' })).status).toBe(403);
  });

  it('deletes invitation data by customer emails, only for that business unit', async () => {
    const { fake, token } = await startWithToken({ businessUnits: [BU, 'other-bu'] });
    await postInvitation(fake, validInvitation(), { token });
    await postInvitation(fake, validInvitation({ consumerEmail: 'keep@example.com' }), { token });
    await postInvitation(fake, validInvitation(), { token, businessUnitId: 'other-bu' });
    const response = await callBusinessUnit(fake, 'POST', 'invitation-data/delete', { customerEmails: ['JANE.DOE@example.com'] }, { token });
    expect(response.status).toBe(202);
    expect(fake.accepted().map((invitation) => [invitation.businessUnitId, invitation.body.consumerEmail])).toEqual([
      [BU, 'keep@example.com'],
      ['other-bu', 'jane.doe@example.com'],
    ]);
  });

  it('deletes invitation data older than a date', async () => {
    const { fake, token } = await startWithToken();
    await postInvitation(fake, validInvitation(), { token });
    const past = await callBusinessUnit(fake, 'POST', 'invitation-data/delete', { deleteOlderThan: '2000-01-01' }, { token });
    expect(past.status).toBe(202);
    expect(fake.accepted()).toHaveLength(1);
    const future = await callBusinessUnit(fake, 'POST', 'invitation-data/delete', { deleteOlderThan: new Date(Date.now() + 60_000).toISOString() }, { token });
    expect(future.status).toBe(202);
    expect(fake.accepted()).toEqual([]);
  });

  it('answers 400 to a delete with both criteria, neither, or bad values', async () => {
    const { fake, token } = await startWithToken();
    await postInvitation(fake, validInvitation(), { token });
    const bodies = [
      { customerEmails: ['jane.doe@example.com'], deleteOlderThan: '2999-01-01' },
      {},
      { customerEmails: 'jane.doe@example.com' },
      { customerEmails: [] },
      { deleteOlderThan: 'last tuesday' },
    ];
    for (const body of bodies) expect((await callBusinessUnit(fake, 'POST', 'invitation-data/delete', body, { token })).status).toBe(400);
    expect(fake.accepted()).toHaveLength(1);
  });

  it('answers 404 JSON to unknown routes and 405 to known routes with the wrong method', async () => {
    const { fake, token } = await startWithToken();
    const unknownPaths = [
      '/',
      '/v1/nothing',
      // Trustpilot serves these; this product does not use them, so neither does the fake.
      '/v1/resources/metadata/locales',
      `/v1/private/business-units/${BU}/invitation-links`,
      `/v1/private/business-units/${BU}/unknown`,
      `/v1/private/business-units/${BU}`,
      '/v1/private/business-units/%E0%A4%A/templates',
    ];
    for (const path of unknownPaths) {
      const response = await fetch(`${fake.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(404);
      expect(await response.json()).toHaveProperty('message');
    }
    expect((await fetch(`${fake.url}${TOKEN_PATH}`)).status).toBe(405);
    expect((await callBusinessUnit(fake, 'GET', 'email-invitations', undefined, { token })).status).toBe(405);
  });
});

describe('fake Trustpilot: admin routes and programmatic API', () => {
  it('serves an index of the admin routes', async () => {
    const fake = await start();
    const response = await adminFetch(fake, '');
    expect(response.status).toBe(200);
    const { routes } = (await response.json()) as { routes: string[] };
    for (const route of ['/admin/invitations', '/admin/duplicates', '/admin/stats', '/admin/faults', '/admin/rate-limit']) {
      expect(routes.some((line) => line.includes(route))).toBe(true);
    }
  });

  it('lists and clears accepted invitations, and reports stats without counting admin calls', async () => {
    const { fake, token } = await startWithToken();
    await postInvitation(fake, validInvitation(), { token });
    await postInvitation(fake, validInvitation({ consumerEmail: 'bad' }), { token });
    const listed = (await (await adminFetch(fake, '/invitations')).json()) as { id: string }[];
    expect(listed.map((invitation) => invitation.id)).toEqual(fake.accepted().map((invitation) => invitation.id));
    expect(listed).toHaveLength(1);

    const stats = await (await adminFetch(fake, '/stats')).json();
    expect(stats).toEqual({ requests: 3, accepted: 1, byStatus: { '200': 1, '202': 1, '400': 1 }, tokensIssued: 1, dropped: 0 });

    expect((await adminFetch(fake, '/invitations', { method: 'DELETE' })).status).toBe(204);
    expect(fake.accepted()).toEqual([]);
    expect(fake.stats()).toEqual({ requests: 0, accepted: 0, byStatus: {}, tokensIssued: 0, dropped: 0 });
    // tokens survive a clear
    expect((await postInvitation(fake, validInvitation(), { token })).status).toBe(202);
  });

  it('replaces faults over HTTP and refuses invalid ones', async () => {
    const { fake, token } = await startWithToken();
    const put = await adminFetch(fake, '/faults', { method: 'PUT', body: JSON.stringify({ errorRates: { 502: 1 } }) });
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({ errorRates: { 502: 1 } });
    expect((await postInvitation(fake, validInvitation(), { token })).status).toBe(502);
    expect(await (await adminFetch(fake, '/faults')).json()).toEqual({ errorRates: { 502: 1 } });

    for (const body of ['{"errorRates":{"500":3}}', '{"latencyMs":"slow"}', '{"unknownFault":1}', 'not json', '[]']) {
      expect((await adminFetch(fake, '/faults', { method: 'PUT', body })).status).toBe(400);
    }
    expect((await adminFetch(fake, '/faults', { method: 'PUT', body: '{}' })).status).toBe(200);
    expect((await postInvitation(fake, validInvitation(), { token })).status).toBe(202);
  });

  it('replaces the rate limit over HTTP, switches it off with null, and refuses invalid ones', async () => {
    const { fake, token } = await startWithToken();
    const put = await adminFetch(fake, '/rate-limit', { method: 'PUT', body: JSON.stringify({ limit: 1, windowSeconds: 30 }) });
    expect(await put.json()).toEqual({ limit: 1, windowSeconds: 30 });
    expect((await postInvitation(fake, validInvitation(), { token })).status).toBe(202);
    expect((await postInvitation(fake, validInvitation(), { token })).status).toBe(429);

    expect(await (await adminFetch(fake, '/rate-limit', { method: 'PUT', body: 'null' })).json()).toBeNull();
    expect((await postInvitation(fake, validInvitation(), { token })).status).toBe(202);
    expect(await (await adminFetch(fake, '/rate-limit')).json()).toBeNull();

    for (const body of ['{"limit":0,"windowSeconds":30}', '{"limit":5}', '"fast"']) {
      expect((await adminFetch(fake, '/rate-limit', { method: 'PUT', body })).status).toBe(400);
    }
    expect(fake.stats().requests).toBe(4);
  });

  it('answers 404 and 405 on the admin prefix too', async () => {
    const fake = await start();
    expect((await adminFetch(fake, '/nothing')).status).toBe(404);
    expect((await adminFetch(fake, '/stats', { method: 'POST' })).status).toBe(405);
  });

  it('exposes the same base URL for both hosts and closes idempotently', async () => {
    const fake = await startFakeTrustpilot({ host: '127.0.0.1' });
    expect(fake.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(fake.apiUrl).toBe(fake.url);
    expect(fake.invitationsApiUrl).toBe(fake.url);
    await Promise.all([fake.close(), fake.close()]);
    await expect(fetch(`${fake.url}/admin`)).rejects.toThrow();
  });

  it('closes promptly while a delayed request is pending', async () => {
    const { fake, token } = await startWithToken({ faults: { latencyMs: 10_000 } });
    const pending = postInvitation(fake, validInvitation(), { token }).catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const startedAt = performance.now();
    await fake.close();
    expect(performance.now() - startedAt).toBeLessThan(1_000);
    expect(await pending).toBeInstanceOf(Error);
    expect(fake.accepted()).toEqual([]);
  });
});

/** A request with the Host header of one's choosing (fetch sets Host itself); `null` sends none. */
function requestWithHost(fake: FakeTrustpilot, path: string, host: string | null, method = 'GET'): Promise<{ status: number; body: string; contentType: string | undefined }> {
  const target = new URL(path, fake.url);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      { hostname: target.hostname, port: target.port, path: target.pathname, method, setHost: false, headers: host === null ? {} : { host } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), contentType: response.headers['content-type'] }));
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
}

describe('fake Trustpilot: admin routes answer only requests addressed to the fake (DNS rebinding)', () => {
  it('answers Host localhost, 127.0.0.1 and [::1] with the server port, in any case', async () => {
    const fake = await start();
    const { port } = new URL(fake.url);
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `LocalHost:${port}`]) {
      const answer = await requestWithHost(fake, '/admin/stats', host);
      expect(answer.status, host).toBe(200);
    }
  });

  it('refuses any other Host with a short JSON 403, on every admin route and method, and changes nothing', async () => {
    const { fake, token } = await startWithToken();
    await postInvitation(fake, validInvitation(), { token });
    const { port } = new URL(fake.url);
    const foreign = [`attacker.example:${port}`, 'attacker.example', `localhost:${Number(port) + 1}`, 'localhost', `127.0.0.1.nip.io:${port}`, `localhost.:${port}`, ''];
    for (const host of foreign) {
      for (const [method, path] of [['GET', '/admin'], ['GET', '/admin/invitations'], ['DELETE', '/admin/invitations'], ['PUT', '/admin/faults'], ['GET', '/admin/nothing']] as const) {
        const answer = await requestWithHost(fake, path, host, method);
        expect(answer.status, `${method} ${path} with Host ${String(host)}`).toBe(403);
        expect(answer.contentType).toMatch(/^application\/json/);
        expect(JSON.parse(answer.body)).toEqual({ message: expect.stringMatching(/^Forbidden/) as unknown });
        expect(answer.body.length).toBeLessThan(200);
        expect(answer.body).not.toContain('jane.doe');
      }
    }
    // Without a Host header at all, Node's HTTP server refuses the request before any route sees it.
    expect((await requestWithHost(fake, '/admin/invitations', null, 'DELETE')).status).toBe(400);
    expect(fake.accepted()).toHaveLength(1);
    expect(fake.stats().requests).toBe(2);
  });

  it('also answers the host it was started on; the API routes, which need credentials, answer any Host', async () => {
    const fake = await start({ host: '0.0.0.0' });
    const { port } = new URL(fake.url);
    expect((await requestWithHost(fake, '/admin', `0.0.0.0:${port}`)).status).toBe(200);
    expect((await requestWithHost(fake, '/admin', `attacker.example:${port}`)).status).toBe(403);
    const templates = await requestWithHost(fake, `/v1/private/business-units/${BU}/templates`, `api.trustpilot.example:${port}`);
    expect(templates.status).toBe(401);
  });
});

