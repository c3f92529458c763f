import { describe, expect, it } from 'vitest';
import { classifyResponse, classifyTransportFailure, parseRetryAfter, TrustpilotError, WITHHELD } from '../../src/trustpilot/index.ts';
import { NOT_RECOGNISED } from '../../src/trustpilot/withhold.ts';

const noHeaders = new Headers();
const json = (value: unknown): string => JSON.stringify(value);

describe('classifyResponse', () => {
  it('400 is rejected, with details parsed from { message, details: [{ field, message }] }', () => {
    const error = classifyResponse(
      400,
      noHeaders,
      json({ message: 'Validation failed', details: [{ field: 'consumerEmail', message: 'invalid email' }] }),
      { subject: 'the invitation' },
    );
    expect(error).toBeInstanceOf(TrustpilotError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('TrustpilotError');
    expect(error.kind).toBe('rejected');
    expect(error.status).toBe(400);
    expect(error.details).toEqual([{ field: 'consumerEmail', message: 'invalid email' }]);
    expect(error.message).toBe('Trustpilot rejected the invitation (400): consumerEmail: invalid email');
    expect(error.responseText).toContain('Validation failed');
  });

  it('400 without details uses the top-level message', () => {
    const error = classifyResponse(400, noHeaders, json({ message: 'locale is not supported' }), { subject: 'the invitation' });
    expect(error.details).toBeUndefined();
    expect(error.message).toBe('Trustpilot rejected the invitation (400): locale is not supported');
  });

  it.each([
    ['ASP.NET errors map', { errors: { consumerEmail: ['is required'], locale: ['bad'] } }, [
      { field: 'consumerEmail', message: 'is required' },
      { field: 'locale', message: 'bad' },
    ]],
    ['errors array of strings', { errors: ['first problem', 'second problem'] }, [{ message: 'first problem' }, { message: 'second problem' }]],
    ['top-level array', [{ property: 'referenceNumber', error: 'too long' }], [{ field: 'referenceNumber', message: 'too long' }]],
    // Free text outside the validation vocabulary is not kept, however it is shaped.
    ['details as a string', { details: 'something odd' }, [{ message: NOT_RECOGNISED }]],
    ['details with junk entries', { details: [null, 3, { field: 'x' }, { message: 'kept' }] }, [{ message: NOT_RECOGNISED }]],
  ])('400 details are parsed defensively: %s', (_label, body, expected) => {
    const error = classifyResponse(400, noHeaders, json(body));
    expect(error.kind).toBe('rejected');
    expect(error.details).toEqual(expected);
  });

  it.each(['', 'not json at all', '<html><body>Bad Request</body></html>', '{"truncated": ', 'null', '[]', '"a string"'])(
    '400 with an unparseable or odd body is still rejected and keeps the raw text when it is plain: %j',
    (body) => {
      const error = classifyResponse(400, noHeaders, body);
      expect(error.kind).toBe('rejected');
      expect(error.status).toBe(400);
      expect(error.details).toBeUndefined();
      // Markup and other non-vocabulary text cannot be told apart from an encoded value.
      if (body.startsWith('<') || body.startsWith('{')) expect(error.responseText).toBe(NOT_RECOGNISED);
      else if (body) expect(error.responseText).toBe(body);
      else expect(error.responseText).toBeUndefined();
    },
  );

  it('401 (after the client already renewed once) is misconfigured: credentials rejected', () => {
    const body = json({ fault: { faultstring: 'Invalid access token', detail: { errorcode: 'oauth.v2.InvalidAccessToken' } } });
    const error = classifyResponse(401, noHeaders, body);
    expect(error.kind).toBe('misconfigured');
    expect(error.errorCode).toBe('oauth.v2.InvalidAccessToken');
    expect(error.message).toMatch(/credentials rejected/);
    expect(error.hint).toMatch(/apiKey\/apiSecret/);
  });

  describe('403 and 404 name the business unit and list the causes', () => {
    const forbidden1014 = json({ message: 'Access to resource is forbidden', errorCode: 1014, correlationId: '0b6f6c1e-1111-2222-3333-444455556666' });
    const ids = { businessUnitId: '46d6a890000064000500e0c3', businessUserId: '5a8e1b2c3d4e5f6071829301' };

    it('1014 with distinct ids: Trustpilot refused that business user for that business unit, three causes', () => {
      const error = classifyResponse(403, noHeaders, forbidden1014, { subject: 'the invitation', ...ids });
      expect(error.kind).toBe('misconfigured');
      expect(error.status).toBe(403);
      expect(error.errorCode).toBe('1014');
      expect(error.message).toBe(
        "Trustpilot refused business user '5a8e1b2c3d4e5f6071829301' for business unit '46d6a890000064000500e0c3' (403, errorCode 1014) on the invitation. " +
          'Possible causes: the business unit id is wrong or belongs to another business; ' +
          'the business USER id is not an Admin or Manager user of that business (or is a business UNIT id); ' +
          'the API key belongs to another business',
      );
      // The old hint blamed the business user id alone, although the client had already ruled out the usual mistake.
      expect(error.hint).not.toMatch(/not the business UNIT id/);
      expect(error.hint).toMatch(/same Trustpilot business/);
    });

    it('1014 when the business user id is the business unit id keeps the USER vs UNIT hint', () => {
      const error = classifyResponse(403, noHeaders, forbidden1014, { subject: 'the invitation', businessUnitId: 'bu-1', businessUserId: 'bu-1' });
      expect(error.message).toBe("Trustpilot forbade the invitation for business unit 'bu-1' (403, errorCode 1014): the configured business user id is the business UNIT id");
      expect(error.hint).toMatch(/business USER id/);
      expect(error.hint).toMatch(/not the business UNIT id/);
    });

    it('1014 without a configured business user (password grant) speaks of the credentials’ business user', () => {
      const error = classifyResponse(403, noHeaders, forbidden1014, { subject: 'the template list request', businessUnitId: 'bu-1' });
      expect(error.message).toMatch(/^Trustpilot refused the business user of these credentials for business unit 'bu-1' \(403, errorCode 1014\)/);
    });

    it('another 403 (the fake answers 1010 for an unknown business unit) names the unit and the three causes', () => {
      const body = json({ message: 'Business unit not found or not accessible', errorCode: 1010, correlationId: 'c' });
      const error = classifyResponse(403, noHeaders, body, { subject: 'the invitation', ...ids });
      expect(error.kind).toBe('misconfigured');
      expect(error.errorCode).toBe('1010');
      expect(error.message).toBe(
        "Trustpilot forbade the invitation for business unit '46d6a890000064000500e0c3' (403, errorCode 1010). " +
          'Possible causes: the business unit id is unknown or belongs to another business; ' +
          'the business user lacks Admin or Manager rights; the Trustpilot plan does not include the Invitation API',
      );
      expect(error.message).not.toContain(ids.businessUserId);
      expect(error.hint).toMatch(/plan/);
    });

    it('a 403 without an error code or ids still lists the causes', () => {
      const error = classifyResponse(403, noHeaders, json({ message: 'Forbidden' }));
      expect(error.errorCode).toBeUndefined();
      expect(error.message).toMatch(/^Trustpilot forbade the request for the business unit \(403\)\. Possible causes: /);
      expect(error.hint).toMatch(/Admin/);
    });

    it('an id that does not look like an id is described, not quoted', () => {
      const error = classifyResponse(403, noHeaders, forbidden1014, { businessUnitId: 'jane doe@example.com', businessUserId: '<script>' });
      expect(error.message).toMatch(/^Trustpilot refused the configured business user for the business unit \(403, errorCode 1014\)/);
      expect(error.message).not.toMatch(/jane|script/);
    });

    it('404 names the business unit and points at hosts and ids', () => {
      const error = classifyResponse(404, noHeaders, '', { subject: 'the template list request', businessUnitId: 'bu-1' });
      expect(error.kind).toBe('misconfigured');
      expect(error.message).toBe(
        "Trustpilot endpoint or business unit 'bu-1' not found (404) for the template list request. " +
          'Possible causes: the business unit id is unknown; apiUrl/invitationsApiUrl point at the wrong host or path',
      );
      expect(error.hint).toMatch(/host/);
      expect(error.hint).toMatch(/business unit id/);
    });
  });

  it('415 is misconfigured and called a client bug', () => {
    const error = classifyResponse(415, noHeaders, json({ message: 'Unsupported Media Type' }));
    expect(error.kind).toBe('misconfigured');
    expect(error.hint).toMatch(/bug/);
  });

  it('429 is retryable with retryAfterMs from Retry-After in seconds', () => {
    const error = classifyResponse(429, new Headers({ 'Retry-After': '7' }), json({ message: 'Too many requests' }));
    expect(error.kind).toBe('retryable');
    expect(error.retryAfterMs).toBe(7000);
    expect(error.message).toMatch(/retry after 7 s/);
  });

  it('429 honours an HTTP-date Retry-After', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    const error = classifyResponse(429, new Headers({ 'retry-after': 'Wed, 01 Jan 2025 00:00:30 GMT' }), '', { now: () => now });
    expect(error.retryAfterMs).toBe(30_000);
  });

  it('429 without Retry-After is retryable without retryAfterMs', () => {
    const error = classifyResponse(429, noHeaders, '');
    expect(error.kind).toBe('retryable');
    expect(error.retryAfterMs).toBeUndefined();
  });

  it.each([500, 502, 503, 504, 520, 599])('%i is retryable', (status) => {
    expect(classifyResponse(status, noHeaders, '').kind).toBe('retryable');
  });

  it('520 with an HTML body is retryable and keeps a truncated copy of the page', () => {
    const html = `<!DOCTYPE html><html><head><title>520: Web server is returning an unknown error</title></head><body>${'x'.repeat(10_000)}</body></html>`;
    const error = classifyResponse(520, noHeaders, html);
    expect(error.kind).toBe('retryable');
    expect(error.details).toBeUndefined();
    expect(error.message).toBe('Trustpilot server error (520) for the request');
    expect(error.responseText!.length).toBeLessThan(2200);
    expect(error.responseText).toMatch(/truncated/);
  });

  it('503 keeps Retry-After too', () => {
    expect(classifyResponse(503, new Headers({ 'retry-after': '120' }), '').retryAfterMs).toBe(120_000);
  });

  it('5xx on a call with side effects warns that the invitation may have been accepted', () => {
    const error = classifyResponse(502, noHeaders, '', { subject: 'the invitation', mayHaveSideEffects: true });
    expect(error.hint).toMatch(/may have accepted/);
  });

  it.each([402, 405, 409, 410, 413, 418, 422])('other 4xx (%i) is rejected', (status) => {
    expect(classifyResponse(status, noHeaders, '').kind).toBe('rejected');
  });

  it('408 is retryable: the server never processed the request', () => {
    expect(classifyResponse(408, noHeaders, '').kind).toBe('retryable');
  });

  it.each([301, 302, 304, 307])('unexpected %i is misconfigured', (status) => {
    expect(classifyResponse(status, noHeaders, '').kind).toBe('misconfigured');
  });

  describe('token endpoint', () => {
    it.each([400, 401])('%i is misconfigured: API key/secret or username/password rejected', (status) => {
      const error = classifyResponse(status, noHeaders, json({ error: 'invalid_client', error_description: 'Bad credentials' }), { tokenEndpoint: true });
      expect(error.kind).toBe('misconfigured');
      expect(error.message).toMatch(/API key\/secret or username\/password/);
      expect(error.errorCode).toBe('invalid_client');
    });

    it('reads the Apigee OAuthV2 error shape', () => {
      const error = classifyResponse(401, noHeaders, json({ ErrorCode: 'invalid_client', Error: 'Client credentials are invalid' }), { tokenEndpoint: true });
      expect(error.errorCode).toBe('invalid_client');
      expect(error.message).toBe('Trustpilot rejected the API key/secret or username/password (401, errorCode invalid_client): Client credentials are invalid');
    });

    it('429 is retryable', () => {
      const error = classifyResponse(429, new Headers({ 'retry-after': '60' }), '', { tokenEndpoint: true });
      expect(error.kind).toBe('retryable');
      expect(error.retryAfterMs).toBe(60_000);
    });

    it.each([403, 404, 405, 415])('%i is misconfigured, never a row-level rejection', (status) => {
      expect(classifyResponse(status, noHeaders, '', { tokenEndpoint: true }).kind).toBe('misconfigured');
    });

    it('5xx is retryable', () => {
      expect(classifyResponse(503, noHeaders, '<html></html>', { tokenEndpoint: true }).kind).toBe('retryable');
    });
  });
});

describe('server text in errors', () => {
  const sent = ['dev-api-secret', 'hunter2-password', 'Jane Doe', 'jane.doe@example.com'];

  it('withholds every piece that quotes what was sent, and strips token-shaped secrets from the rest', () => {
    const body = json({
      message: 'Jane Doe <jane.doe@example.com> is invalid; token tpa-abcDEF123.xyz rejected, refresh tpr-Zyx987',
      details: [
        { field: 'consumerEmail', message: "'jane.doe@example.com' is not valid for Jane" },
        { field: 'locale', message: 'is not supported; token tpa-abcDEF123.xyz' },
      ],
      echo: { password: 'hunter2-password', access_token: 'whatever-opaque' },
      authorization: 'Bearer abc.def.ghi',
    });
    const error = classifyResponse(400, noHeaders, body, { subject: 'the invitation', sentValues: sent });
    const everything = [error.message, error.responseText, JSON.stringify(error.details), error.hint ?? ''].join('\n');
    for (const leaked of ['jane.doe@example.com', 'tpa-abcDEF123', 'tpr-Zyx987', 'hunter2-password', 'Jane', 'Doe', 'whatever-opaque', 'abc.def.ghi']) {
      expect(everything).not.toContain(leaked);
    }
    expect(error.details).toEqual([
      { field: 'consumerEmail', message: WITHHELD },
      { field: 'locale', message: 'is not supported; token [redacted]' },
    ]);
    expect(error.message).toBe(`Trustpilot rejected the invitation (400): consumerEmail: ${WITHHELD}; locale: is not supported; token [redacted]`);
    expect(error.responseText).toBe(WITHHELD);
  });

  it('keeps a body that quotes nothing, removing only token-shaped secrets', () => {
    const body = json({ message: 'Template not found', access_token: 'opaque-value' });
    const error = classifyResponse(400, noHeaders, body, { sentValues: sent });
    expect(error.message).toBe('Trustpilot rejected the request (400): Template not found');
    expect(error.responseText).toBe('{"message":"Template not found","access_token":"[redacted]"}');
  });

  it('decides on the whole body before truncating, so a value cut in half cannot survive', () => {
    const text = `${'a '.repeat(1020)}jane.doe@example.com`;
    expect(classifyResponse(400, noHeaders, text, { sentValues: sent }).responseText).toBe(WITHHELD);
    expect(classifyResponse(503, noHeaders, text, { sentValues: sent }).responseText).toBe(WITHHELD);
    // Below 500 only plain validation text is kept at all; a server error page is kept, cut to size.
    expect(classifyResponse(400, noHeaders, 'x'.repeat(5000)).responseText).toBe(NOT_RECOGNISED);
    const harmless = classifyResponse(503, noHeaders, 'x'.repeat(5000)).responseText!;
    expect(harmless).toMatch(/^x{2048}… \[truncated 2952 chars\]$/);
    const plain = classifyResponse(400, noHeaders, 'too long; '.repeat(500)).responseText!;
    expect(plain).toMatch(/… \[truncated 2952 chars\]$/);
  });

  it('toJSON exposes only screened fields', () => {
    const error = classifyResponse(400, noHeaders, json({ message: 'bad jane@example.com' }));
    expect(JSON.stringify(error)).not.toContain('jane@example.com');
    expect(JSON.parse(JSON.stringify(error))).toMatchObject({ kind: 'rejected', status: 400, message: `Trustpilot rejected the request (400): ${WITHHELD}` });
  });
});

describe('parseRetryAfter', () => {
  const now = (): number => Date.parse('2025-06-01T12:00:00Z');
  it.each([
    ['0', 0],
    ['5', 5000],
    [' 30 ', 30_000],
    ['1.5', 1500],
    ['Sun, 01 Jun 2025 12:01:00 GMT', 60_000],
    ['Sun, 01 Jun 2025 11:00:00 GMT', 0],
  ])('%j -> %i ms', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });
  it.each([null, undefined, '', 'soon', '-5'])('%j -> undefined', (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined();
  });
});

describe('classifyTransportFailure', () => {
  const fetchFailed = (code: string): Error => new TypeError('fetch failed', { cause: Object.assign(new Error(`connect ${code} 10.0.0.1:443`), { code }) });

  it.each(['ECONNRESET', 'ECONNREFUSED', 'UND_ERR_SOCKET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN'])('%s is retryable', (code) => {
    const error = classifyTransportFailure(fetchFailed(code), { subject: 'the template list request' });
    expect(error.kind).toBe('retryable');
    expect(error.errorCode).toBe(code);
    expect(error.status).toBeUndefined();
    expect(error.message).toContain(code);
    expect(error.message).not.toContain('10.0.0.1');
  });

  it('a bare "fetch failed" or "socket hang up" is retryable', () => {
    expect(classifyTransportFailure(new TypeError('fetch failed'), { subject: 'x' }).kind).toBe('retryable');
    expect(classifyTransportFailure(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), { subject: 'x' }).kind).toBe('retryable');
  });

  it('certificate problems are misconfigured', () => {
    expect(classifyTransportFailure(fetchFailed('CERT_HAS_EXPIRED'), { subject: 'x' }).kind).toBe('misconfigured');
  });

  it('warns about possible duplicates for calls with side effects', () => {
    expect(classifyTransportFailure(fetchFailed('ECONNRESET'), { subject: 'the invitation', mayHaveSideEffects: true }).hint).toMatch(/may have accepted/);
  });
});
