/**
 * Server text that quotes what a call sent is withheld whole, whatever the encoding; text
 * that quotes nothing is kept. Each case here is a spelling that in-place rewriting missed.
 */
import { describe, expect, it } from 'vitest';
import type { InvitationRequest } from '../../src/domain/invitation-request.ts';
import { parseErrorCode } from '../../src/trustpilot/answer-body.ts';
import { classifyResponse, createTrustpilotClient, TokenCache, TrustpilotError, WITHHELD, type TrustpilotCredentials } from '../../src/trustpilot/index.ts';
import { foldForMatching } from '../../src/trustpilot/readings.ts';
import { SentValues, stringLeavesOf } from '../../src/trustpilot/sent-values.ts';
import { NOT_RECOGNISED } from '../../src/trustpilot/withhold.ts';
import {
  forbiddenBusinessUserBody,
  INVALID_ACCESS_TOKEN_BODY,
  oauthErrorBody,
  QUOTA_VIOLATION_BODY,
  unknownBusinessUnitBody,
  validationErrorBody,
} from '../../src/fake-trustpilot/error-bodies.ts';
import { validateInvitationRequest } from '../../src/fake-trustpilot/validation.ts';
import { scriptedTransport, type ScriptedServer } from './scripted-transport.ts';

const noHeaders = new Headers();
const json = (value: unknown): string => JSON.stringify(value);

const zoe = { consumerEmail: 'zoe.li@example.com', consumerName: 'Zoë Li', referenceNumber: 'ORDER-7731' };
const sentZoe = Object.values(zoe);

/** Everything a TrustpilotError exposes to an operator, a log or Temporal history. */
function visibleText(error: TrustpilotError): string {
  return [error.message, error.hint ?? '', error.errorCode ?? '', error.responseText ?? '', JSON.stringify(error.details ?? []), JSON.stringify(error)].join('\n');
}

function classify400(body: string, sentValues: readonly string[] = sentZoe): TrustpilotError {
  return classifyResponse(400, noHeaders, body, { subject: 'the invitation', sentValues });
}

describe('SentValues: what counts as quoting', () => {
  const sent = SentValues.of(['Al Bo', 'Zoë Li', 'zoe.li@example.com', 'Strauß', 'Renée']);

  it.each([
    ['a short first name as a word', 'Al is not a valid name'],
    ['a short last name after punctuation', 'name "Bo" rejected'],
    ['a two-letter name part', 'Li: invalid'],
    ['the name in NFD', 'Zoe\u0308 Li is invalid'],
    ['the name without its accent', 'ZOE LI is invalid'],
    ['a decimal HTML entity', 'Ren&#233;e is invalid'],
    ['a hexadecimal HTML entity', 'Ren&#xE9;e is invalid'],
    ['a named HTML entity', 'Ren&eacute;e is invalid'],
    ['a doubly encoded entity', 'Ren&amp;#233;e is invalid'],
    ['a JSON \\u escape', 'Zo\\u00eb is invalid'],
    ['UTF-8 percent-encoding', 'name=zo%C3%AB'],
    ['Latin-1 percent-encoding', 'name=Zo%EB'],
    ['a form-encoded space', 'name=Zo%C3%AB+Li'],
    ['full-width letters', 'ＺＯＥ ＬＩ'],
    ['full case folding (ß as SS)', 'STRAUSS is invalid'],
    ['a zero-width space inside the name', 'Ren\u200Be\u0301e'],
    ['the local part of the email', 'zoe.li is unknown'],
    ['the domain of the email', 'example.com does not accept mail'],
    ['anything email-shaped, sent or not', 'someone@elsewhere.org bounced'],
    ['an encoded at sign', 'x%40y'],
    ['an at sign as an entity', 'x&#64;y'],
  ])('%s', (_label, text) => {
    expect(sent.quotedIn(text)).toBe(true);
  });

  it.each([
    ['a word that merely contains a short name', 'Albert and Bob are fine; Lisbon too'],
    ['harmless field messages', 'consumerEmail is invalid'],
    ['an unknown template', 'Template not found'],
    ['an at sign that is not in an address', 'use @ only in emails'],
  ])('keeps %s', (_label, text) => {
    expect(sent.quotedIn(text)).toBe(false);
  });

  it('stays fast with thousands of sent values (an erasure call) against a large error page', () => {
    const many = SentValues.of(Array.from({ length: 10_000 }, (_, i) => `customer${i}@mail${i % 50}.example`));
    const page = `<html>${'<p>Service unavailable &amp; busy</p>'.repeat(1800)}</html>`;
    const startedAt = performance.now();
    expect(many.quotedIn(page)).toBe(false);
    expect(many.quotedIn(`${page} mail49.example`)).toBe(true);
    expect(performance.now() - startedAt).toBeLessThan(1_000);
  });

  it('folds case, width, accents and spacing the same way on both sides', () => {
    expect(foldForMatching('Zoe\u0308\u00A0LI')).toBe(foldForMatching('zoë li'));
    expect(foldForMatching('Straße')).toBe('strasse');
    expect(foldForMatching('STRAẞE')).toBe('strasse');
  });

  it('collects every string leaf of a body, skipping the named keys', () => {
    const body = { a: 'x', type: 'email', nested: { tags: ['t1', 't2'], n: 3, deeper: [{ sku: 'S-1' }] } };
    expect(stringLeavesOf(body, { ignoreKeys: ['type'] })).toEqual(['x', 't1', 't2', 'S-1']);
    const cyclic: Record<string, unknown> = { v: 'y' };
    cyclic['self'] = cyclic;
    expect(stringLeavesOf(cyclic)).toEqual(['y']);
  });
});

describe('classifyResponse: nothing of the request survives', () => {
  it.each([
    ['short name parts', { message: 'Li is not accepted', details: [{ field: 'consumerName', message: 'Li' }] }],
    ['NFD', { message: 'Zoe\u0308 is invalid' }],
    ['&#233;-style entity', { message: 'Zo&#235; is invalid' }],
    ['&eacute;-style entity', { message: 'Zo&euml; is invalid' }],
    ['a \\u escape inside the parsed message', { message: 'Zo\\u00eb is invalid' }],
    ['percent-encoding', { message: 'zo%C3%AB is invalid' }],
    ['the reference number in lower case', { message: 'order-7731 already exists' }],
  ])('%s: the piece is withheld whole', (_label, body) => {
    const error = classify400(json(body));
    const visible = visibleText(error);
    for (const leaked of ['Zo', 'zo%', 'Li ', 'ORDER-7731', 'order-7731', '\\u00eb', '&#', '&euml']) expect(visible).not.toContain(leaked);
    expect(error.message).toContain(WITHHELD);
    expect(error.responseText).toBe(WITHHELD);
  });

  it('an email in errorCode is dropped; so is a code that quotes a sent value', () => {
    expect(parseErrorCode({ errorCode: 'zoe.li@example.com' })).toBeUndefined();
    expect(parseErrorCode({ errorCode: 'Zoë' })).toBeUndefined();
    expect(parseErrorCode({ errorCode: 'x'.repeat(65) })).toBeUndefined();
    expect(parseErrorCode({ errorCode: 1014 })).toBe('1014');
    expect(parseErrorCode({ fault: { detail: { errorcode: 'oauth.v2.InvalidAccessToken' } } })).toBe('oauth.v2.InvalidAccessToken');

    const emailCode = classifyResponse(422, noHeaders, json({ errorCode: 'zoe.li@example.com', message: 'Unprocessable' }), { sentValues: sentZoe });
    expect(emailCode.errorCode).toBeUndefined();
    expect(visibleText(emailCode)).not.toContain('zoe.li');
    const nameCode = classifyResponse(422, noHeaders, json({ errorCode: 'Li', message: 'Unprocessable' }), { sentValues: sentZoe });
    expect(nameCode.errorCode).toBeUndefined();
    expect(nameCode.message).toBe('Trustpilot rejected the request (422): Unprocessable');
  });

  it("keeps a numeric code even when a row's values share its digits (a name ending in 101 must not hide 1014)", () => {
    const error = classifyResponse(403, noHeaders, json({ errorCode: 1014, message: 'Access to resource is forbidden' }), { sentValues: ['Buyer WU 101', 'WU-101', 'wu.101@shop.example.com'] });
    expect(error.errorCode).toBe('1014');
  });

  it('an email split across a detail field and its message: the field is dropped, the message withheld', () => {
    const error = classify400(json({ details: [{ field: 'zoe.li', message: '@example.com is not a valid address' }] }));
    expect(error.details).toEqual([{ message: WITHHELD }]);
    expect(visibleText(error)).not.toMatch(/zoe|example\.com/i);
  });

  it('field names must look like property paths', () => {
    const error = classify400(json({ errors: { 'Zoë Li': ['is not valid'], 'serviceReviewInvitation.tags[0]': ['too long'], 'a b': ['odd'] } }));
    expect(error.details).toEqual([{ message: 'is not valid' }, { field: 'serviceReviewInvitation.tags[0]', message: 'too long' }, { message: NOT_RECOGNISED }]);
  });

  it('keeps harmless server text in full', () => {
    const error = classify400(json({ message: 'Validation failed', details: [{ field: 'consumerEmail', message: 'consumerEmail is invalid' }, { message: 'Template not found' }] }));
    expect(error.message).toBe('Trustpilot rejected the invitation (400): consumerEmail: consumerEmail is invalid; Template not found');
    expect(error.responseText).toContain('Template not found');
  });
});

describe('the client treats every string it sent as quotable', () => {
  const API = 'https://api.test';
  const INVITATIONS = 'https://invitations.test';
  const credentials: TrustpilotCredentials = { grant: 'password', apiKey: 'key-1', apiSecret: 'secret-1', username: 'ops@shop.example', password: 'pw-Lo' };
  const invitation: InvitationRequest = {
    consumerEmail: 'al.bo@example.com',
    consumerName: 'Al Bo',
    referenceNumber: 'R-55012',
    locale: 'da-DK',
    senderName: 'Shop Nord',
    senderEmail: 'shop@nord.example',
    replyTo: 'care@nord.example',
    locationId: 'store-7',
    type: 'email',
    serviceReviewInvitation: { templateId: 'tmpl-1', tags: ['vip-summer'] },
    productReviewInvitation: { productSkus: ['SKU-9921'] },
  };

  function clientAnswering(answer: (sent: InvitationRequest) => Response) {
    const server: ScriptedServer = (url, init) => {
      if (url.startsWith(API)) return Promise.resolve(Response.json({ access_token: 'tpa-xyz', refresh_token: 'tpr-xyz', expires_in: '3600' }));
      return Promise.resolve(answer(JSON.parse(init.body ?? '{}') as InvitationRequest));
    };
    return createTrustpilotClient({ apiUrl: API, invitationsApiUrl: INVITATIONS, credentials, transport: scriptedTransport(server), tokenCache: new TokenCache() });
  }

  async function failureQuoting(quote: (sent: InvitationRequest) => string): Promise<TrustpilotError> {
    const client = clientAnswering((sent) => Response.json({ message: quote(sent) }, { status: 400 }));
    const error = await client.createInvitation('bu-1', invitation).then(
      () => {
        throw new Error('expected a rejection');
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TrustpilotError);
    return error as TrustpilotError;
  }

  it.each([
    ['referenceNumber', (sent: InvitationRequest) => `Reference ${sent.referenceNumber} is a duplicate`],
    ['senderName', (sent: InvitationRequest) => `Sender ${sent.senderName ?? ''} is not allowed`],
    ['locationId', (sent: InvitationRequest) => `Location ${sent.locationId ?? ''} unknown`],
    ['a tag', (sent: InvitationRequest) => `Tag ${sent.serviceReviewInvitation?.tags?.[0] ?? ''} too long`],
    ['a SKU', (sent: InvitationRequest) => `Product ${sent.productReviewInvitation?.productSkus?.[0] ?? ''} unknown`],
    ['a short name part', (sent: InvitationRequest) => `Hello ${sent.consumerName.split(' ')[1] ?? ''}`],
    ['the access token', () => 'token tpa-xyz expired'],
    ['the password (a short word in it)', () => 'password pw-Lo rejected'],
  ])('%s quoted in the answer is withheld', async (_label, quote) => {
    const error = await failureQuoting(quote);
    expect(error.message).toBe(`Trustpilot rejected the invitation (400): ${WITHHELD}`);
    expect(error.responseText).toBe(WITHHELD);
  });

  it('harmless answers are kept, although type "email" was sent', async () => {
    const error = await failureQuoting(() => 'consumerEmail is invalid');
    expect(error.message).toBe('Trustpilot rejected the invitation (400): consumerEmail is invalid');
  });

  it('the token endpoint withholds answers quoting the username', async () => {
    const server: ScriptedServer = () => Promise.resolve(Response.json({ error: 'invalid_grant', error_description: 'User OPS@shop.example is locked' }, { status: 400 }));
    const client = createTrustpilotClient({ apiUrl: API, invitationsApiUrl: INVITATIONS, credentials, transport: scriptedTransport(server), tokenCache: new TokenCache() });
    const error = (await client.authenticate().catch((e: unknown) => e)) as TrustpilotError;
    expect(error.kind).toBe('misconfigured');
    expect(error.errorCode).toBe('invalid_grant');
    expect(error.message).toBe(`Trustpilot rejected the API key/secret or username/password (400, errorCode invalid_grant): ${WITHHELD}`);
    expect(visibleText(error)).not.toMatch(/ops@/i);
  });
});

describe('encoded echoes: base64, hex and spaced-out values', () => {
  const email = 'bob.stone@example.com';
  const name = 'Zoë Li';
  const reference = 'ORDER-7731';
  const sent = SentValues.of([email, name, reference]);
  const base64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
  const base64url = (text: string): string => Buffer.from(text, 'utf8').toString('base64url');
  const hex = (text: string): string => Buffer.from(text, 'utf8').toString('hex');
  const pairs = (text: string, separator: string): string => (hex(text).match(/../g) ?? []).join(separator);

  it.each([
    ['standard base64 with padding', `invalid ${base64(name)}`],
    ['standard base64 without padding', `invalid ${base64(email).replace(/=+$/, '')}`],
    ['URL-safe base64', `invalid ${base64url(name)}`],
    ['base64 glued to other letters', `id=x${base64(email)}`],
    ['base64 of JSON quoting the email', base64(JSON.stringify({ consumerEmail: email }))],
    ['base64 of a JSON-escaped name', base64(JSON.stringify({ name: 'Zo\u00eb Li' }).replace('ë', '\\u00eb'))],
    ['lower-case hex', hex(email)],
    ['upper-case hex', hex(reference).toUpperCase()],
    ['hex glued to an odd prefix', `a${hex(name)}`],
    ['hex pairs separated by spaces', pairs(name, ' ')],
    ['hex pairs separated by colons', pairs(reference, ':')],
    ['the email spaced out', 'b o b . s t o n e @ e x a m p l e . c o m'],
    ['the email spaced out with wide gaps', 'b  o  b  .  s  t  o  n  e'],
    ['the name spaced out', 'Z o ë   L i'],
    ['the reference spaced out by its own hyphens', 'O-R-D-E-R-7-7-3-1'],
    ['letters separated by dots', 'Z.o.e.L.i'],
    ['letters separated by underscores', 'O_R_D_E_R_7_7_3_1'],
    ['letters separated by asterisks', 'Z*o*ë'],
  ])('%s is found', (_label, text) => {
    expect(sent.quotedIn(text)).toBe(true);
  });

  it.each([
    ['plain words that happen to be valid base64', 'Service temporarily unavailable'],
    ['hex-looking words', 'deadbeef cafe facade'],
    ['a correlation id', '0b6f6c1e-1111-2222-3333-444455556666'],
    ['single letters in ordinary text', 'a b c'],
  ])('%s are not taken for an echo', (_label, text) => {
    expect(sent.quotedIn(text)).toBe(false);
  });

  it('an encoded address that was not sent still counts (anything email-shaped does)', () => {
    expect(sent.quotedIn(`x ${base64('someone.else@elsewhere.org')}`)).toBe(true);
    expect(sent.quotedIn(hex('someone.else@elsewhere.org'))).toBe(true);
  });

  it('stays fast with thousands of sent values against a large page full of base64-shaped words', () => {
    const many = SentValues.of(Array.from({ length: 10_000 }, (_, i) => `customer${i}@mail${i % 50}.example`));
    const page = `<html>${'<p>Gateway upstream connection timeout deadbeef</p>'.repeat(1300)}</html>`;
    const startedAt = performance.now();
    expect(many.quotedIn(page)).toBe(false);
    expect(many.quotedIn(`${page} ${base64('customer77@mail27.example')}`)).toBe(true);
    expect(performance.now() - startedAt).toBeLessThan(2_000);
  });

  describe('4xx answers: only plain validation text is kept', () => {
    const sentValues = [email, name, reference, 'da-DK'];
    const answer400 = (body: unknown): TrustpilotError => classifyResponse(400, noHeaders, json(body), { subject: 'the invitation', sentValues });

    it.each([
      ['base64', `Invalid consumerEmail ${base64(email)}`],
      ['URL-safe base64 without padding', `Invalid consumerEmail ${base64url(email)}`],
      ['hex', `Invalid consumerEmail ${hex(email)}`],
      ['upper-case hex', `Invalid consumerEmail ${hex(email).toUpperCase()}`],
      ['spaced out', 'Invalid consumerEmail b o b . s t o n e @ e x a m p l e . c o m'],
      ['spaced out by dashes', 'Invalid consumerEmail b-o-b-s-t-o-n-e'],
      ['a value no decoder knows', `Invalid consumerEmail ${[...email].reverse().join('')}`],
      ['rot13', 'Invalid consumerEmail obo.fgbar@rknzcyr.pbz'],
    ])('%s: the text is withheld, the field it names is kept', (_label, message) => {
      const error = answer400({ message });
      expect(error.message).toMatch(/^Trustpilot rejected the invitation \(400\): \[withheld: [^\]]+\] \(mentions consumerEmail\)$/);
      expect(error.responseText).toMatch(/^\[withheld: /);
      const visible = visibleText(error);
      for (const leaked of ['bob', 'stone', 'example', base64(email).slice(0, 12), hex(email).slice(0, 12), 'b o b', 'fgbar']) {
        expect(visible.toLowerCase()).not.toContain(leaked.toLowerCase());
      }
    });

    it('a text that provably quotes a sent value says so; one that merely is not validation text says that', () => {
      expect(answer400({ message: `consumerEmail ${base64(email)} is invalid` }).message).toContain(WITHHELD);
      expect(answer400({ message: 'consumerEmail is invalid: olleh' }).message).toContain(NOT_RECOGNISED);
    });

    it.each([
      ['Invalid locale', 'Invalid locale'],
      ['locale is not supported', 'locale is not supported'],
      ['consumerEmail must be a valid email address', 'consumerEmail must be a valid email address'],
      ['The field ConsumerName is required.', 'The field ConsumerName is required.'],
      ['referenceNumber is too long: at most 255 characters', 'referenceNumber is too long: at most 255 characters'],
      ['token tpa-not.sent.here expired', 'token [redacted] expired'],
    ])('keeps %j', (message, kept) => {
      expect(answer400({ message }).message).toBe(`Trustpilot rejected the invitation (400): ${kept}`);
    });

    it('a benign message with one unknown word is reduced to the fields it names', () => {
      const error = answer400({ message: 'Invalid locale xx-YY in $.locale for consumer_name' });
      expect(error.message).toBe(`Trustpilot rejected the invitation (400): ${NOT_RECOGNISED} (mentions locale, consumerName)`);
    });

    it('a number that occurs in a sent value is not kept (it may be part of one)', () => {
      expect(answer400({ message: 'duplicate 7731' }).message).toContain(NOT_RECOGNISED);
      expect(answer400({ message: 'duplicate 4242' }).message).toBe('Trustpilot rejected the invitation (400): duplicate 4242');
    });

    it('non-ASCII, markup and entity text is not plain, even without any sent value', () => {
      for (const message of ['Ungültige E-Mail', '<b>invalid</b>', 'invalid &amp; missing', 'invalid = missing', 'x@y is invalid']) {
        expect(classifyResponse(400, noHeaders, json({ message })).message).toMatch(/\(400\): \[withheld: /);
      }
    });

    it('detail field names are kept as known request fields only, in their canonical spelling', () => {
      const error = answer400({
        errors: {
          ConsumerEmail: ['is required'],
          '$.productReviewInvitation.productSkus[2]': ['is not in the product catalogue'],
          [base64(email)]: ['is invalid'],
          'bob.stone': ['is invalid'],
        },
      });
      expect(error.details).toEqual([
        { field: 'consumerEmail', message: 'is required' },
        { field: 'productReviewInvitation.productSkus[2]', message: 'is not in the product catalogue' },
        { message: 'is invalid' },
        { message: 'is invalid' },
      ]);
      expect(error.responseText).toBe(WITHHELD);
    });

    it('codes are kept when they look like codes; a correlation id when it is a UUID', () => {
      const uuid = '0b6f6c1e-1111-2222-3333-444455556666';
      const forbidden = classifyResponse(403, noHeaders, json({ message: 'Access to resource is forbidden', errorCode: 1014, correlationId: uuid }), { sentValues });
      expect(forbidden).toMatchObject({ errorCode: '1014', correlationId: uuid });
      expect(forbidden.responseText).toBe(json({ message: 'Access to resource is forbidden', errorCode: 1014, correlationId: uuid }));
      for (const code of ['invalid_grant', 'INVALID_EMAIL', 'oauth.v2.InvalidAccessToken', 'policies.ratelimit.QuotaViolation']) {
        expect(classifyResponse(422, noHeaders, json({ errorCode: code }), { sentValues }).errorCode).toBe(code);
      }
      for (const code of [base64url(email), hex(reference), 'ORDER7731', 'bob_stone', 'Xq7_Lk2']) {
        const error = classifyResponse(422, noHeaders, json({ errorCode: code, message: 'Unprocessable' }), { sentValues });
        expect(error.errorCode).toBeUndefined();
        expect(visibleText(error)).not.toContain(code);
      }
      for (const correlationId of ['not-a-uuid', base64(email), `${uuid}x`]) {
        expect(classifyResponse(403, noHeaders, json({ errorCode: 1014, correlationId }), { sentValues }).correlationId).toBeUndefined();
      }
    });
  });

  describe('5xx answers: kept unless they quote what was sent, in any of these spellings', () => {
    it.each([
      ['base64 in an HTML page', `<html><body>upstream error for ${base64(email)}</body></html>`],
      ['hex in a JSON body', json({ message: 'failed', request: hex(name) })],
      ['spaced out', 'failed for Z o ë L i'],
    ])('%s', (_label, body) => {
      const error = classifyResponse(502, noHeaders, body, { sentValues: [email, name, reference] });
      expect(error.kind).toBe('retryable');
      expect(error.responseText).toBe(WITHHELD);
    });

    it('an ordinary error page is kept', () => {
      const page = '<html><head><title>520 | trustpilot.com</title></head><body><h1>Error 520</h1></body></html>';
      expect(classifyResponse(520, noHeaders, page, { sentValues: [email, name, reference] }).responseText).toBe(page);
    });
  });
});

describe("the fake server's answers stay readable", () => {
  const validation = (body: Record<string, unknown>) => {
    const result = validateInvitationRequest(body, { productCatalogue: new Set(['SKU-1']) });
    if (result.ok) throw new Error('expected the fake to refuse the body');
    return result.problems;
  };

  it('every validation message of the fake is kept with its field, the non-UTC offset one included (it names no value)', () => {
    const body = {
      consumerEmail: 'not-an-email',
      consumerName: '',
      referenceNumber: 42,
      locale: 'xx',
      senderEmail: 'nobody',
      replyTo: 'nowhere',
      type: 'sms',
      serviceReviewInvitation: { redirectUri: 'ftp://x', preferredSendTime: '2030-02-30T10:00:00', tags: 'vip' },
      productReviewInvitation: { productSkus: ['SKU-1', 'SKU-404', ' '] },
    };
    const problems = validation(body);
    expect(problems.length).toBeGreaterThan(8);
    const error = classifyResponse(400, noHeaders, json(validationErrorBody('Invalid invitation request', problems)), {
      subject: 'the invitation',
      sentValues: stringLeavesOf(body, { ignoreKeys: ['type'] }),
    });
    expect(error.details).toEqual(problems);
    expect(error.responseText).toContain('Invalid invitation request');

    const offset = validation({ ...body, serviceReviewInvitation: { preferredSendTime: '2030-01-01T10:00:00+02:00' } });
    const notUtc = classifyResponse(400, noHeaders, json(validationErrorBody('Invalid invitation request', offset)), { sentValues: ['2030-01-01T10:00:00+02:00'] });
    const detail = notUtc.details?.find((entry) => entry.field === 'serviceReviewInvitation.preferredSendTime');
    expect(detail?.message).toMatch(/not UTC/);
    expect(detail?.message).not.toContain('+02:00');
  });

  it.each([
    [400, validationErrorBody('Malformed JSON', [{ field: 'body', message: 'is not valid JSON' }]), 'body: is not valid JSON'],
    [400, validationErrorBody('Invalid invitation data deletion request', [{ field: 'body', message: 'exactly one of customerEmails or deleteOlderThan is required' }]), 'exactly one of customerEmails or deleteOlderThan is required'],
    [400, validationErrorBody('Invalid invitation data deletion request', [{ field: 'deleteOlderThan', message: 'must be an ISO-8601 date or date-time' }]), 'must be an ISO-8601 date or date-time'],
    [422, { message: 'Injected fault 422' }, 'Injected fault 422'],
    [413, { message: 'Request body too large' }, 'Request body too large'],
    [405, { message: 'Method Not Allowed' }, 'Method Not Allowed'],
  ])('%i %j', (status, body, text) => {
    expect(classifyResponse(status, noHeaders, json(body), { sentValues: sentZoe }).message).toContain(text);
  });

  it.each([
    [403, forbiddenBusinessUserBody(), '1014'],
    [403, unknownBusinessUnitBody(), '1010'],
    [401, JSON.parse(INVALID_ACCESS_TOKEN_BODY) as unknown, 'oauth.v2.InvalidAccessToken'],
    [429, JSON.parse(QUOTA_VIOLATION_BODY) as unknown, 'policies.ratelimit.QuotaViolation'],
  ])('%i keeps its code and its whole body', (status, body, code) => {
    const error = classifyResponse(status, noHeaders, json(body), { sentValues: sentZoe });
    expect(error.errorCode).toBe(code);
    expect(error.responseText).toBe(json(body));
  });

  it.each([
    ['invalid_request', 'Required params : username, password'],
    ['invalid_grant', 'Invalid username or password'],
    ['invalid_grant', 'Invalid Refresh Token'],
    ['invalid_client', 'Client credentials are invalid'],
    ['unsupported_grant_type', 'Unsupported grant type'],
  ])('the token endpoint keeps %s: %s', (code, text) => {
    const error = classifyResponse(400, noHeaders, json(oauthErrorBody(code, text)), { tokenEndpoint: true, sentValues: ['key', 'secret-1', 'ops@shop.example', 'pw'] });
    expect(error.message).toBe(`Trustpilot rejected the API key/secret or username/password (400, errorCode ${code}): ${text}`);
  });
});
