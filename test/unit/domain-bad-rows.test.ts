import { describe, expect, it } from 'vitest';
import {
  buildInvitation,
  describeRowIssues,
  TRUSTPILOT_LOCALES,
  type ActivationConfigInput,
  type BuildResult,
  type DestinationConfigInput,
  type ResolvedActivation,
  type RowIssue,
} from '../../src/domain/index.ts';
import { activationInput, destinationInput, validConfigs } from '../fixtures.ts';

function resolve(destination: Partial<DestinationConfigInput>, activation: Partial<ActivationConfigInput>): ResolvedActivation {
  return validConfigs(destinationInput({ invitationType: 'both', ...destination }), activationInput(activation)).resolved;
}

function issuesOf(result: BuildResult): RowIssue[] {
  if (result.ok) throw new Error(`expected row issues, got payload ${JSON.stringify(result.payload)}`);
  return result.issues;
}

/** Every optional field mapped: the widest surface for bad values. */
const everythingMapped = resolve(
  { invitationType: 'both' },
  {
    products: { mode: 'per_row' },
    mapping: {
      consumerName: 'name',
      consumerEmail: 'email',
      referenceNumber: 'order_id',
      replyTo: 'reply_to',
      locale: 'locale',
      senderName: 'sender_name',
      senderEmail: 'sender_email',
      locationId: 'store_id',
      serviceReviewTags: 'tags',
      productSkus: 'skus',
      servicePreferredSendTime: 'service_at',
      productPreferredSendTime: 'product_at',
    },
  },
);

const goodRow: Readonly<Record<string, unknown>> = {
  order_id: 'ORD-1001',
  name: 'Jane Doe',
  email: 'jane.doe@example.com',
  reply_to: 'care@acme.example',
  locale: 'en-GB',
  sender_name: 'Acme Shop',
  sender_email: 'shop@acme.example',
  store_id: 'store-12',
  tags: ['vip', 'spring-sale'],
  skus: ['SKU-1'],
  service_at: '2024-05-01T09:00:00Z',
  product_at: '2024-05-08T09:00:00Z',
};

const withoutColumn = (column: string): Record<string, unknown> =>
  Object.fromEntries(Object.entries(goodRow).filter(([key]) => key !== column));

const manyTags = Array.from({ length: 51 }, (_, index) => `tag-${index}`);
const manySkus = Array.from({ length: 101 }, (_, index) => `SKU-${index}`);

const badRows: { name: string; change: Record<string, unknown>; drop?: string; field: string; reason: string }[] = [
  { name: 'null email', change: { email: null }, field: 'consumerEmail', reason: 'is required but missing' },
  { name: 'blank email', change: { email: '   ' }, field: 'consumerEmail', reason: 'is required but empty' },
  { name: 'email without @', change: { email: 'jane.example.com' }, field: 'consumerEmail', reason: 'not a valid email address' },
  { name: 'email with two @', change: { email: 'jane@@example.com' }, field: 'consumerEmail', reason: 'not a valid email address' },
  { name: 'email with a space', change: { email: 'jane doe@example.com' }, field: 'consumerEmail', reason: 'not a valid email address' },
  { name: 'email without a top-level domain', change: { email: 'jane@example' }, field: 'consumerEmail', reason: 'not a valid email address' },
  { name: 'email with a double dot', change: { email: 'jane..doe@example.com' }, field: 'consumerEmail', reason: 'not a valid email address' },
  { name: 'email longer than 254', change: { email: `${'a'.repeat(60)}@${'b'.repeat(200)}.com` }, field: 'consumerEmail', reason: 'longer than 254 characters' },
  { name: 'email from a json column', change: { email: { address: 'jane@example.com' } }, field: 'consumerEmail', reason: 'expected text, got an object' },
  { name: 'missing name', change: { name: null }, field: 'consumerName', reason: 'is required but missing' },
  { name: 'empty name', change: { name: '' }, field: 'consumerName', reason: 'is required but empty' },
  { name: 'name longer than 255', change: { name: 'J'.repeat(256) }, field: 'consumerName', reason: 'longer than 255 characters' },
  { name: 'name with a header injection', change: { name: 'Jane\r\nBcc: all@example.com' }, field: 'consumerName', reason: 'line breaks or control characters' },
  { name: 'name from an array column', change: { name: ['Jane', 'Doe'] }, field: 'consumerName', reason: 'expected text, got a list' },
  { name: 'name from a bytea column', change: { name: Buffer.from('Jane') }, field: 'consumerName', reason: 'expected text, got binary data' },
  { name: 'reference column absent from the row', change: {}, drop: 'order_id', field: 'referenceNumber', reason: "mapped column 'order_id' is not in the row" },
  { name: 'reference number longer than 255', change: { order_id: '9'.repeat(256) }, field: 'referenceNumber', reason: 'longer than 255 characters' },
  { name: 'reference number NaN', change: { order_id: Number.NaN }, field: 'referenceNumber', reason: 'not a finite number' },
  { name: 'reference number boolean', change: { order_id: true }, field: 'referenceNumber', reason: 'expected text, got a boolean' },
  { name: 'reference number date', change: { order_id: new Date('2024-05-01T00:00:00Z') }, field: 'referenceNumber', reason: 'expected text, got a date' },
  { name: 'locale with underscore and lower case', change: { locale: 'en_us' }, field: 'locale', reason: "'en_us' is not language-REGION (did you mean en-US?)" },
  { name: 'locale with a lower-case region', change: { locale: 'da-dk' }, field: 'locale', reason: "'da-dk' is not language-REGION (did you mean da-DK?)" },
  { name: 'language-only locale', change: { locale: 'de' }, field: 'locale', reason: "'de' is not language-REGION (did you mean de-AT, de-CH, de-DE?)" },
  { name: 'macro-language Norwegian', change: { locale: 'no-NO' }, field: 'locale', reason: "'no-NO' is not supported by Trustpilot (did you mean nb-NO?)" },
  { name: 'well-formed but unsupported locale', change: { locale: 'en-FR' }, field: 'locale', reason: "'en-FR' is not a Trustpilot-supported locale" },
  { name: 'an email mapped as locale', change: { locale: 'jane.doe@example.com' }, field: 'locale', reason: 'not a locale code (expected language-REGION, e.g. en-US)' },
  { name: 'invalid sender email', change: { sender_email: 'shop at acme' }, field: 'senderEmail', reason: 'not a valid email address' },
  { name: 'invalid reply-to', change: { reply_to: 'care@' }, field: 'replyTo', reason: 'not a valid email address' },
  { name: 'sender name longer than 100', change: { sender_name: 'A'.repeat(101) }, field: 'senderName', reason: 'longer than 100 characters' },
  { name: 'sender name with a line break', change: { sender_name: 'Acme\nShop' }, field: 'senderName', reason: 'line breaks or control characters' },
  { name: 'location id longer than 255', change: { store_id: 's'.repeat(256) }, field: 'locationId', reason: 'longer than 255 characters' },
  { name: 'location id object', change: { store_id: { id: 12 } }, field: 'locationId', reason: 'expected text, got an object' },
  { name: 'numeric tags', change: { tags: ['vip', 2] }, field: 'serviceReviewTags', reason: 'item 2: expected text, got a number' },
  { name: 'tags as a JSON object', change: { tags: '{"segment":"vip"}' }, field: 'serviceReviewTags', reason: 'expected a list of tags, got an object' },
  { name: 'tags as broken JSON', change: { tags: '["vip",' }, field: 'serviceReviewTags', reason: 'looks like JSON but is not valid JSON' },
  { name: 'too many tags', change: { tags: manyTags }, field: 'serviceReviewTags', reason: 'has 51 tags; at most 50 are allowed' },
  { name: 'tag longer than 50', change: { tags: ['ok', 't'.repeat(51)] }, field: 'serviceReviewTags', reason: 'tag 2 is longer than 50 characters' },
  { name: 'tags as a boolean', change: { tags: true }, field: 'serviceReviewTags', reason: 'expected text or a list, got a boolean' },
  { name: 'send time in words', change: { service_at: 'tomorrow morning' }, field: 'servicePreferredSendTime', reason: 'not an ISO-8601 date-time' },
  { name: 'send time on 30 February', change: { service_at: '2024-02-30T10:00:00' }, field: 'servicePreferredSendTime', reason: 'not a valid calendar date-time' },
  { name: 'send time in US format', change: { product_at: '05/08/2024 09:00:00' }, field: 'productPreferredSendTime', reason: 'not an ISO-8601 date-time' },
  { name: 'send time as a number', change: { service_at: 1714554000 }, field: 'servicePreferredSendTime', reason: 'expected a timestamp, got a number' },
  { name: 'invalid Date object', change: { product_at: new Date('not a date') }, field: 'productPreferredSendTime', reason: 'not a valid date' },
  { name: 'service after product', change: { service_at: '2024-05-09T09:00:00Z' }, field: 'servicePreferredSendTime', reason: 'must be earlier than productPreferredSendTime' },
  { name: 'service at the same time as product', change: { service_at: '2024-05-08T11:00:00+02:00' }, field: 'servicePreferredSendTime', reason: 'must be earlier than productPreferredSendTime' },
  { name: 'null SKU', change: { skus: null }, field: 'productSkus', reason: 'no product SKU for a product invitation' },
  { name: 'empty SKU list', change: { skus: [] }, field: 'productSkus', reason: 'no product SKU for a product invitation' },
  { name: 'blank SKUs only', change: { skus: ' , ,' }, field: 'productSkus', reason: 'no product SKU for a product invitation' },
  { name: 'full product object', change: { skus: { sku: 'SKU-1', name: 'Shoe', price: 10 } }, field: 'productSkus', reason: 'full product objects are not supported; provide SKUs only' },
  { name: 'list of product objects', change: { skus: [{ sku: 'SKU-1', productUrl: 'https://acme.example/p/1' }] }, field: 'productSkus', reason: 'full product objects are not supported; provide SKUs only' },
  { name: 'product objects as JSON text', change: { skus: '[{"sku":"SKU-1"}]' }, field: 'productSkus', reason: 'full product objects are not supported; provide SKUs only' },
  { name: 'too many SKUs', change: { skus: manySkus }, field: 'productSkus', reason: 'has 101 SKUs; at most 100 are allowed' },
  { name: 'SKU longer than 255', change: { skus: ['S'.repeat(256)] }, field: 'productSkus', reason: 'SKU 1 is longer than 255 characters' },
  { name: 'SKU column absent', change: {}, drop: 'skus', field: 'productSkus', reason: "mapped column 'skus' is not in the row" },
];

describe('bad rows', () => {
  it('has at least 25 distinct cases', () => {
    expect(new Set(badRows.map((badRow) => badRow.name)).size).toBe(badRows.length);
    expect(badRows.length).toBeGreaterThanOrEqual(25);
  });

  it('accepts the good row the bad rows are derived from', () => {
    expect(buildInvitation({ ...goodRow }, everythingMapped).ok).toBe(true);
  });

  it.each(badRows)('$name → $field: $reason', ({ change, drop, field, reason }) => {
    const row = { ...(drop === undefined ? goodRow : withoutColumn(drop)), ...change };
    const issues = issuesOf(buildInvitation(row, everythingMapped));
    // Exactly one problem was introduced, so exactly one issue must come back.
    expect(issues).toHaveLength(1);
    expect(issues[0]?.field).toBe(field);
    expect(issues[0]?.reason).toContain(reason);
  });

  it.each(badRows)('never echoes personal data for "$name"', ({ change, drop }) => {
    const row = { ...(drop === undefined ? goodRow : withoutColumn(drop)), ...change };
    const description = describeRowIssues(issuesOf(buildInvitation(row, everythingMapped)));
    for (const personal of ['jane', 'Jane', 'example.com', 'acme.example']) expect(description).not.toContain(personal);
  });

  it('lists every problem of a row at once, in one line', () => {
    const row = { ...goodRow, email: 'not-an-email', name: '  ', order_id: null, locale: 'en_us', skus: [] };
    const issues = issuesOf(buildInvitation(row, everythingMapped));
    expect(issues).toStrictEqual([
      { field: 'consumerEmail', reason: 'not a valid email address' },
      { field: 'consumerName', reason: 'is required but empty' },
      { field: 'referenceNumber', reason: 'is required but missing' },
      { field: 'locale', reason: "'en_us' is not language-REGION (did you mean en-US?)" },
      { field: 'productSkus', reason: 'no product SKU for a product invitation' },
    ]);
    expect(describeRowIssues(issues)).toBe(
      "consumerEmail: not a valid email address; consumerName: is required but empty; referenceNumber: is required but missing; locale: 'en_us' is not language-REGION (did you mean en-US?); productSkus: no product SKU for a product invitation",
    );
  });

  it('only offers locales from the Trustpilot list', () => {
    expect(TRUSTPILOT_LOCALES).toContain('en-US');
    expect(TRUSTPILOT_LOCALES).toContain('nb-NO');
    expect(TRUSTPILOT_LOCALES.every((locale) => /^[a-z]{2}-[A-Z]{2}$/.test(locale))).toBe(true);
    for (const locale of TRUSTPILOT_LOCALES) {
      expect(buildInvitation({ ...goodRow, locale }, everythingMapped).ok).toBe(true);
    }
  });
});

describe('good rows', () => {
  it('builds a service-only invitation from Postgres types, normalising each field', () => {
    const resolved = resolve(
      { invitationType: 'service', defaults: { serviceTemplateId: 'tpl-svc', senderName: 'Acme' } },
      {
        mapping: {
          consumerName: 'name',
          consumerEmail: 'email',
          referenceNumber: 'order_id',
          locale: 'locale',
          locationId: 'store_id',
          serviceReviewTags: 'tags',
          servicePreferredSendTime: 'send_at',
        },
      },
    );
    const result = buildInvitation(
      {
        order_id: 9007199254740993n,
        name: '  Jane Doe ',
        email: ' jane@example.com ',
        locale: 'da-DK',
        store_id: 12,
        tags: ' vip, spring-sale ,vip,, ',
        send_at: new Date('2024-05-01T09:30:15.250Z'),
        unrelated_column: { anything: true },
      },
      resolved,
    );
    expect(result).toStrictEqual({
      ok: true,
      payload: {
        consumerEmail: 'jane@example.com',
        consumerName: 'Jane Doe',
        referenceNumber: '9007199254740993',
        locale: 'da-DK',
        senderName: 'Acme',
        locationId: '12',
        type: 'email',
        serviceReviewInvitation: { templateId: 'tpl-svc', preferredSendTime: '2024-05-01T09:30:15', tags: ['vip', 'spring-sale'] },
      },
    });
  });

  it('sends an empty service object when nothing service-specific is set, so Trustpilot still knows the type', () => {
    const resolved = resolve({ invitationType: 'service' }, {});
    const result = buildInvitation({ order_id: 1001, name: 'Jane', email: 'jane@example.com' }, resolved);
    expect(result.ok && JSON.stringify(result.payload)).toBe(
      '{"consumerEmail":"jane@example.com","consumerName":"Jane","referenceNumber":"1001","type":"email","serviceReviewInvitation":{}}',
    );
  });

  it.each([
    ['a single SKU', 'SKU-1', ['SKU-1']],
    ['comma-separated SKUs', ' SKU-1, SKU-2 ,SKU-1 ', ['SKU-1', 'SKU-2']],
    ['a JSON array of SKUs', '["SKU-1", "SKU-2"]', ['SKU-1', 'SKU-2']],
    ['a Postgres text[]', ['SKU-1', ' SKU-2 ', ''], ['SKU-1', 'SKU-2']],
    ['a parsed json column', ['SKU-1', 'SKU-3'], ['SKU-1', 'SKU-3']],
    ['a numeric SKU', 4711, ['4711']],
    ['an int8[] of SKUs', [4711n, 4712n], ['4711', '4712']],
  ])('builds a product-only invitation from %s', (_shape, cell, skus) => {
    const resolved = resolve(
      { invitationType: 'product', defaults: { productRedirectUri: 'https://acme.example/thanks' } },
      {
        products: { mode: 'per_row' },
        mapping: { consumerName: 'name', consumerEmail: 'email', referenceNumber: 'order_id', productSkus: 'skus', productPreferredSendTime: 'at' },
      },
    );
    const result = buildInvitation({ order_id: 'ORD-7', name: 'Jane', email: 'jane@example.com', skus: cell, at: '2024-05-01 10:00:00+02' }, resolved);
    expect(result).toStrictEqual({
      ok: true,
      payload: {
        consumerEmail: 'jane@example.com',
        consumerName: 'Jane',
        referenceNumber: 'ORD-7',
        type: 'email',
        productReviewInvitation: { preferredSendTime: '2024-05-01T08:00:00', redirectUri: 'https://acme.example/thanks', productSkus: skus },
      },
    });
  });

  it('builds a "both" invitation with fixed SKUs and per-row sender fields', () => {
    const resolved = resolve(
      { invitationType: 'both', defaults: { serviceTemplateId: 'tpl-svc', productTemplateId: 'tpl-prd' } },
      {
        products: { mode: 'fixed', skus: ['BOX-1', 'BOX-2'] },
        mapping: {
          consumerName: 'name',
          consumerEmail: 'email',
          referenceNumber: 'order_id',
          senderName: 'shop_name',
          senderEmail: 'shop_email',
          replyTo: 'shop_reply',
          servicePreferredSendTime: 'service_at',
          productPreferredSendTime: 'product_at',
        },
      },
    );
    const result = buildInvitation(
      {
        order_id: 42,
        name: 'Jane',
        email: 'jane@example.com',
        shop_name: 'Acme Paris',
        shop_email: 'paris@acme.example',
        shop_reply: null,
        service_at: '2024-05-01T10:00:00-05:30',
        product_at: '2024-05-10',
      },
      resolved,
    );
    expect(result).toStrictEqual({
      ok: true,
      payload: {
        consumerEmail: 'jane@example.com',
        consumerName: 'Jane',
        referenceNumber: '42',
        senderEmail: 'paris@acme.example',
        senderName: 'Acme Paris',
        type: 'email',
        serviceReviewInvitation: { templateId: 'tpl-svc', preferredSendTime: '2024-05-01T15:30:00' },
        productReviewInvitation: { templateId: 'tpl-prd', preferredSendTime: '2024-05-10T00:00:00', productSkus: ['BOX-1', 'BOX-2'] },
      },
    });
  });

  it('builds the everything-mapped row exactly', () => {
    expect(buildInvitation({ ...goodRow, tags: '["vip","spring-sale"]' }, everythingMapped)).toStrictEqual({
      ok: true,
      payload: {
        consumerEmail: 'jane.doe@example.com',
        consumerName: 'Jane Doe',
        referenceNumber: 'ORD-1001',
        locale: 'en-GB',
        senderEmail: 'shop@acme.example',
        senderName: 'Acme Shop',
        replyTo: 'care@acme.example',
        locationId: 'store-12',
        type: 'email',
        serviceReviewInvitation: { preferredSendTime: '2024-05-01T09:00:00', tags: ['vip', 'spring-sale'] },
        productReviewInvitation: { preferredSendTime: '2024-05-08T09:00:00', productSkus: ['SKU-1'] },
      },
    });
  });

  it('treats blank optional cells as absent', () => {
    const row = { ...goodRow, locale: ' ', reply_to: '', sender_name: null, sender_email: undefined, store_id: null, tags: [], service_at: '', product_at: null };
    const result = buildInvitation(row, everythingMapped);
    expect(result).toStrictEqual({
      ok: true,
      payload: {
        consumerEmail: 'jane.doe@example.com',
        consumerName: 'Jane Doe',
        referenceNumber: 'ORD-1001',
        type: 'email',
        serviceReviewInvitation: {},
        productReviewInvitation: { productSkus: ['SKU-1'] },
      },
    });
  });
});
