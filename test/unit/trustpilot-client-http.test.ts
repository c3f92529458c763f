/**
 * The client over real HTTP against a tiny local node:http server: routes, timeouts, aborts,
 * dropped connections and redirects — the failure modes a scripted transport cannot reproduce.
 */
import { getEventListeners } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { InvitationRequest } from '../../src/domain/invitation-request.ts';
import { createTrustpilotClient, TokenCache, TrustpilotError, WITHHELD, type TrustpilotClientOptions } from '../../src/trustpilot/index.ts';

type Route = (req: IncomingMessage, res: ServerResponse, body: string) => void;

interface Seen {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** the client's end of the connection: equal ports, one reused connection */
  socketPort: number;
}

let server: Server;
let baseUrl: string;
let route: Route;
const seen: Seen[] = [];

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

/** Default behaviour: a well-behaved Trustpilot; tests override `route` for one path at a time. */
const wellBehaved: Route = (req, res) => {
  const path = req.url ?? '';
  if (path.endsWith('/accesstoken')) return json(res, 200, { access_token: 'tpa-local', expires_in: '359999' });
  if (path.endsWith('/email-invitations')) return json(res, 201, {});
  if (path.endsWith('/templates')) {
    return json(res, 200, {
      templates: [
        { id: 't1', name: 'Default', isDefaultTemplate: true, locale: 'en-US', type: 'Service' },
        { id: 't2', name: 'Danish', isDefaultTemplate: false, locale: 'da-DK', type: 'Product', extra: 1 },
        { name: 'no id, skipped' },
      ],
    });
  }
  if (path.endsWith('/invitation-data/delete')) {
    res.writeHead(204);
    return res.end();
  }
  json(res, 404, { message: 'Not found' });
};

beforeAll(async () => {
  route = wellBehaved;
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, socketPort: req.socket.remotePort ?? 0 });
      route(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(() => {
  route = wellBehaved;
  seen.length = 0;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const BU = 'bu-local';
const invitation: InvitationRequest = {
  consumerEmail: 'jane.doe@example.com',
  consumerName: 'Jane Doe',
  referenceNumber: 'order-42',
  locale: 'en-US',
  serviceReviewInvitation: { templateId: 't1', tags: ['vip'] },
};

function client(overrides: Partial<TrustpilotClientOptions> = {}) {
  return createTrustpilotClient({
    apiUrl: baseUrl,
    invitationsApiUrl: baseUrl,
    credentials: { grant: 'client_credentials', apiKey: 'key-local', apiSecret: 'secret-local', businessUserId: 'user-local' },
    tokenCache: new TokenCache(),
    timeoutMs: 2_000,
    ...overrides,
  });
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
}

async function trustpilotRejectionOf(promise: Promise<unknown>): Promise<TrustpilotError> {
  const error = await rejectionOf(promise);
  expect(error).toBeInstanceOf(TrustpilotError);
  const tpError = error as TrustpilotError;
  // Whatever went wrong, nothing secret or personal may be visible.
  const visible = [tpError.message, tpError.hint ?? '', tpError.responseText ?? '', JSON.stringify(tpError.details ?? [])].join('\n');
  for (const secret of ['secret-local', 'tpa-local', 'jane.doe@example.com', 'Jane', 'Bearer', 'c2VjcmV0']) expect(visible).not.toContain(secret);
  return tpError;
}

describe('routes', () => {
  it('createInvitation posts JSON to the email-invitations path', async () => {
    route = (req, res) => (req.url?.endsWith('/email-invitations') ? json(res, 202, { id: 'inv-1' }) : wellBehaved(req, res, ''));
    await expect(client().createInvitation(BU, invitation)).resolves.toEqual({ status: 202, id: 'inv-1' });
    const call = seen.find((s) => s.path.endsWith('/email-invitations'))!;
    expect(call.method).toBe('POST');
    expect(call.path).toBe(`/v1/private/business-units/${BU}/email-invitations`);
    expect(call.headers['content-type']).toBe('application/json');
    expect(call.headers['authorization']).toBe('Bearer tpa-local');
    expect(call.headers['x-business-user-id']).toBe('user-local');
    expect(JSON.parse(call.body)).toEqual(invitation);
  });

  it('createInvitation accepts any 2xx with an empty or non-JSON body', async () => {
    route = (req, res) => {
      if (!req.url?.endsWith('/email-invitations')) return wellBehaved(req, res, '');
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('OK');
    };
    await expect(client().createInvitation(BU, invitation)).resolves.toEqual({ status: 200 });
  });

  it('business unit ids are path-encoded; a trailing slash on the base URL is tolerated', async () => {
    await client({ invitationsApiUrl: `${baseUrl}/` }).createInvitation('a/b c', invitation);
    expect(seen.at(-1)!.path).toBe('/v1/private/business-units/a%2Fb%20c/email-invitations');
  });

  it('listTemplates returns the documented fields only and skips entries without an id', async () => {
    await expect(client().listTemplates(BU)).resolves.toEqual([
      { id: 't1', name: 'Default', isDefaultTemplate: true, locale: 'en-US', type: 'Service' },
      { id: 't2', name: 'Danish', isDefaultTemplate: false, locale: 'da-DK', type: 'Product' },
    ]);
    const call = seen.at(-1)!;
    expect(call.method).toBe('GET');
    expect(call.path).toBe(`/v1/private/business-units/${BU}/templates`);
    expect(call.headers['authorization']).toBe('Bearer tpa-local');
  });

  it('deleteInvitationData sends exactly one of the two forms', async () => {
    await client().deleteInvitationData(BU, { customerEmails: ['jane.doe@example.com'] });
    expect(JSON.parse(seen.at(-1)!.body)).toEqual({ customerEmails: ['jane.doe@example.com'] });
    await client().deleteInvitationData(BU, { deleteOlderThan: '2024-01-01T00:00:00Z' });
    expect(seen.at(-1)!.path).toBe(`/v1/private/business-units/${BU}/invitation-data/delete`);
    expect(JSON.parse(seen.at(-1)!.body)).toEqual({ deleteOlderThan: '2024-01-01T00:00:00Z' });
  });

  it('deleteInvitationData refuses ambiguous or empty requests locally', async () => {
    const both = { customerEmails: ['x@example.com'], deleteOlderThan: '2024-01-01' } as unknown as { customerEmails: string[] };
    for (const request of [both, { customerEmails: [] }, {} as { customerEmails: string[] }, { deleteOlderThan: ' ' }]) {
      const error = await trustpilotRejectionOf(client().deleteInvitationData(BU, request));
      expect(error.kind).toBe('rejected');
    }
    expect(seen.filter((s) => s.path.includes('invitation-data'))).toHaveLength(0);
  });

  it('an unexpected success body (e.g. an HTML page at the wrong URL) is misconfigured', async () => {
    route = (req, res) => {
      if (!req.url?.endsWith('/templates')) return wellBehaved(req, res, '');
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>hello</html>');
    };
    expect((await trustpilotRejectionOf(client().listTemplates(BU))).kind).toBe('misconfigured');
  });
});

describe('configuration mistakes caught before any request', () => {
  it('businessUserId equal to the business unit id fails fast with the 1014 hint', async () => {
    const c = client({ credentials: { grant: 'client_credentials', apiKey: 'k', apiSecret: 's', businessUserId: BU } });
    const error = await trustpilotRejectionOf(c.createInvitation(BU, invitation));
    expect(error.kind).toBe('misconfigured');
    expect(error.errorCode).toBe('1014');
    expect(error.hint).toMatch(/business USER id/);
    expect(seen).toHaveLength(0);
  });

  it.each([
    ['apiUrl not a URL', { apiUrl: 'api.trustpilot.com' }],
    ['apiUrl with credentials', { apiUrl: 'https://user:pw@api.trustpilot.com' }],
    ['invitationsApiUrl ftp', { invitationsApiUrl: 'ftp://invitations-api.trustpilot.com' }],
    ['timeout zero', { timeoutMs: 0 }],
    ['missing businessUserId', { credentials: { grant: 'client_credentials', apiKey: 'k', apiSecret: 's', businessUserId: '' } }],
    ['missing password', { credentials: { grant: 'password', apiKey: 'k', apiSecret: 's', username: 'u', password: '' } }],
  ] as [string, Partial<TrustpilotClientOptions>][])('%s throws misconfigured without echoing values', (_label, overrides) => {
    let thrown: unknown;
    try {
      client(overrides);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TrustpilotError);
    expect((thrown as TrustpilotError).kind).toBe('misconfigured');
    expect((thrown as TrustpilotError).message).not.toMatch(/pw|user:/);
  });

  it('an empty business unit id is misconfigured', async () => {
    expect((await trustpilotRejectionOf(client().listTemplates(' '))).kind).toBe('misconfigured');
  });
});

describe('transport failures', () => {
  it('a server slower than timeoutMs gives a retryable timeout', async () => {
    route = (req, res) => {
      if (!req.url?.endsWith('/email-invitations')) return wellBehaved(req, res, '');
      setTimeout(() => json(res, 201, {}), 1_000).unref();
    };
    const started = Date.now();
    const error = await trustpilotRejectionOf(client({ timeoutMs: 200 }).createInvitation(BU, invitation));
    expect(Date.now() - started).toBeLessThan(900);
    expect(error.kind).toBe('retryable');
    expect(error.errorCode).toBe('TIMEOUT');
    expect(error.hint).toMatch(/may have accepted/);
  });

  it('a body that trickles past timeoutMs is also a timeout', async () => {
    route = (req, res) => {
      if (!req.url?.endsWith('/templates')) return wellBehaved(req, res, '');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"templates":[');
      setTimeout(() => res.end(']}'), 1_000).unref();
    };
    const error = await trustpilotRejectionOf(client({ timeoutMs: 200 }).listTemplates(BU));
    expect(error.errorCode).toBe('TIMEOUT');
  });

  it('a caller abort propagates as is, not as a Trustpilot error', async () => {
    route = (req, res) => {
      if (!req.url?.endsWith('/email-invitations')) return wellBehaved(req, res, '');
      setTimeout(() => json(res, 201, {}), 1_000).unref();
    };
    const controller = new AbortController();
    const pending = client().createInvitation(BU, invitation, { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    const error = await rejectionOf(pending);
    expect(error).not.toBeInstanceOf(TrustpilotError);
    expect(error).toMatchObject({ name: 'AbortError' });

    const reason = new Error('activity cancelled');
    const custom = new AbortController();
    const pending2 = client().createInvitation(BU, invitation, { signal: custom.signal });
    setTimeout(() => custom.abort(reason), 100);
    expect(await rejectionOf(pending2)).toBe(reason);
  });

  it('a long-lived caller signal keeps no listeners after the calls finish', async () => {
    const controller = new AbortController();
    const c = client();
    for (let i = 0; i < 20; i++) await c.createInvitation(BU, invitation, { signal: controller.signal });
    await rejectionOf(c.listTemplates('x', { signal: controller.signal }).then(() => Promise.reject(new Error('stop'))));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('an already-aborted signal sends nothing', async () => {
    const error = await rejectionOf(client().listTemplates(BU, { signal: AbortSignal.abort() }));
    expect(error).toMatchObject({ name: 'AbortError' });
    expect(seen).toHaveLength(0);
  });

  it('a connection dropped after the request was read is retryable and warns about duplicates', async () => {
    route = (req, res) => (req.url?.endsWith('/email-invitations') ? req.socket.destroy() : wellBehaved(req, res, ''));
    const error = await trustpilotRejectionOf(client().createInvitation(BU, invitation));
    expect(error.kind).toBe('retryable');
    expect(error.status).toBeUndefined();
    expect(error.hint).toMatch(/may have accepted/);
  });

  it('a refused connection is retryable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await trustpilotRejectionOf(client({ apiUrl: `http://127.0.0.1:${port}` }).authenticate());
    expect(error.kind).toBe('retryable');
    expect(error.errorCode).toBe('ECONNREFUSED');
  });

  it('a 2xx whose body is cut off still counts as accepted for createInvitation', async () => {
    route = (req, res) => {
      if (!req.url?.endsWith('/email-invitations')) return wellBehaved(req, res, '');
      res.writeHead(201, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"id":');
      setTimeout(() => res.socket?.destroy(), 20);
    };
    await expect(client().createInvitation(BU, invitation)).resolves.toEqual({ status: 201 });
  });

  it('redirects are not followed (the Authorization header stays here) and count as misconfigured', async () => {
    route = (req, res) => {
      if (!req.url?.endsWith('/templates')) return wellBehaved(req, res, '');
      res.writeHead(302, { location: `${baseUrl}/elsewhere` });
      res.end();
    };
    const error = await trustpilotRejectionOf(client().listTemplates(BU));
    expect(error.kind).toBe('misconfigured');
    expect(error.status).toBe(302);
    expect(seen.some((s) => s.path === '/elsewhere')).toBe(false);
  });

  it('a huge HTML 503 body is read only partially and kept truncated', async () => {
    route = (req, res) => {
      if (!req.url?.endsWith('/templates')) return wellBehaved(req, res, '');
      res.writeHead(503, { 'content-type': 'text/html' });
      res.end(`<html>${'<p>busy</p>'.repeat(200_000)}</html>`);
    };
    const error = await trustpilotRejectionOf(client().listTemplates(BU));
    expect(error.kind).toBe('retryable');
    expect(error.responseText!.length).toBeLessThan(2200);
  });
});

describe('error responses over HTTP', () => {
  it('a 400 echoing personal data is rejected with the echoing pieces withheld', async () => {
    route = (req, res, body) => {
      if (!req.url?.endsWith('/email-invitations')) return wellBehaved(req, res, '');
      const sent = JSON.parse(body) as InvitationRequest;
      json(res, 400, {
        message: `Invalid request for ${sent.consumerName}`,
        details: [{ field: 'consumerEmail', message: `'${sent.consumerEmail}' is not a valid email` }],
      });
    };
    const error = await trustpilotRejectionOf(client().createInvitation(BU, invitation));
    expect(error.kind).toBe('rejected');
    expect(error.message).toBe(`Trustpilot rejected the invitation (400): consumerEmail: ${WITHHELD}`);
    expect(error.details).toEqual([{ field: 'consumerEmail', message: WITHHELD }]);
    expect(error.responseText).toBe(WITHHELD);
  });

  it('a 401 on a token the token endpoint just issued: renew once, retry once, then credentials rejected', async () => {
    let minted = 0;
    route = (req, res) => {
      if (req.url?.endsWith('/accesstoken')) return json(res, 200, { access_token: `tpa-local-${++minted}`, expires_in: '359999' });
      json(res, 401, { fault: { faultstring: 'Invalid access token', detail: { errorcode: 'oauth.v2.InvalidAccessToken' } } });
    };
    const error = await trustpilotRejectionOf(client().listTemplates(BU));
    expect(error.kind).toBe('misconfigured');
    expect(error.message).toMatch(/credentials rejected/);
    expect(minted).toBe(2);
    expect(seen.filter((s) => s.path.endsWith('/templates'))).toHaveLength(2);
  });
});

describe('the transport', () => {
  it('sends a body with its length (not chunked) and reuses one keep-alive connection', async () => {
    const api = client();
    await api.createInvitation(BU, invitation);
    await api.createInvitation(BU, invitation);
    const calls = seen.filter((s) => s.path.endsWith('/email-invitations'));
    expect(calls).toHaveLength(2);
    for (const call of calls) {
      expect(call.headers['content-length']).toBe(String(Buffer.byteLength(call.body)));
      expect(call.headers['transfer-encoding']).toBeUndefined();
    }
    expect(calls[1]?.socketPort).toBe(calls[0]?.socketPort);
  });

  it('reads Retry-After from the answer', async () => {
    route = (req, res) => (req.url?.endsWith('/email-invitations') ? json(res, 429, { message: 'Too many requests' }, { 'Retry-After': '7' }) : wellBehaved(req, res, ''));
    const error = await trustpilotRejectionOf(client().createInvitation(BU, invitation));
    expect(error.kind).toBe('retryable');
    expect(error.retryAfterMs).toBe(7_000);
  });

  it('speaks HTTPS, and a certificate nobody vouches for is misconfigured, naming the TLS code', async () => {
    const tls = createHttpsServer({ key: SELF_SIGNED.key, cert: SELF_SIGNED.cert }, (req, res) => json(res, 200, { access_token: 'tpa-local', expires_in: '359999' }));
    await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
    try {
      const error = await trustpilotRejectionOf(client({ apiUrl: `https://127.0.0.1:${(tls.address() as AddressInfo).port}` }).authenticate());
      expect(error.kind).toBe('misconfigured');
      expect(error.errorCode).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
      expect(error.message).toMatch(/TLS failure/);
    } finally {
      tls.closeAllConnections();
      await new Promise<void>((resolve) => tls.close(() => resolve()));
    }
  });
});

/** A self-signed certificate for 127.0.0.1 (valid until 2126), for a TLS server no client trusts. */
const SELF_SIGNED = {
  key: `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgcpdhkDKCUkmpI5E4
U7BR+33bdGz7E8g/QK/lzHeQGBGhRANCAAT8B+JFMhts3eez71apisZlBlGcmBYM
J6g0iLiWHYqcpwimO/MtCMDoNCfD2H95VvmhBTYLSuN6znR7uR5BePi3
-----END PRIVATE KEY-----`,
  cert: `-----BEGIN CERTIFICATE-----
MIIBnDCCAUGgAwIBAgIUO9NLrYlrsEpmGAo7Vs52A3DcMeIwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyOTA1NDAwMloYDzIxMjYxMTA1
MDU0MDAyWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAT8B+JFMhts3eez71apisZlBlGcmBYMJ6g0iLiWHYqcpwimO/MtCMDo
NCfD2H95VvmhBTYLSuN6znR7uR5BePi3o28wbTAdBgNVHQ4EFgQU5HS9TbZ5yg/w
RHe7q4oGCTbfhVwwHwYDVR0jBBgwFoAU5HS9TbZ5yg/wRHe7q4oGCTbfhVwwDwYD
VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARhwR/AAABgglsb2NhbGhvc3QwCgYIKoZI
zj0EAwIDSQAwRgIhAL9JgXgUX2OwRyFb50+iMovBZHEjgv9/TFbiSzJ0yHHpAiEA
uY9gqgOxOJz2WD33ULjm5w6Z+fr8eGEc9RjPtNAAyzU=
-----END CERTIFICATE-----`,
};
