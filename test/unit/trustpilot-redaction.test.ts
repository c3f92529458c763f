/**
 * Server text that quotes what a call sent is withheld whole, whatever the encoding; text
 * that quotes nothing is kept. Each case here is a spelling that in-place rewriting missed.
 */
import { describe, expect, it } from 'vitest';
import type { InvitationRequest } from '../../src/domain/invitation-request.ts';
import { parseErrorCode } from '../../src/trustpilot/errors.ts';
import { classifyResponse, createTrustpilotClient, TokenCache, TrustpilotError, WITHHELD, type TrustpilotCredentials } from '../../src/trustpilot/index.ts';
import { foldForMatching, SentValues, stringLeavesOf } from '../../src/trustpilot/withhold.ts';
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
    expect(error.details).toEqual([{ message: 'is not valid' }, { field: 'serviceReviewInvitation.tags[0]', message: 'too long' }, { message: 'odd' }]);
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
