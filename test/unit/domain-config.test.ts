import { describe, expect, it } from 'vitest';
import { findReadOnlySqlProblem } from '../../src/domain/read-only-sql.ts';
import {
  activationConfigSchema,
  buildInvitation,
  credentialsRefSchema,
  destinationConfigSchema,
  parseConfigs,
  parseDuration,
  productSettingsSchema,
  resolveActivation,
  scheduleSchema,
  sourceSchema,
  type ActivationConfigInput,
  type ConfigIssue,
  type DestinationConfigInput,
  type InvitationRequest,
  type ResolvedActivation,
} from '../../src/domain/index.ts';

const destination = (overrides: Partial<DestinationConfigInput> = {}): DestinationConfigInput => ({
  id: 'acme-trustpilot',
  businessUnitId: '5f0c1a2b3c4d5e6f7a8b9c0d',
  invitationType: 'service',
  ...overrides,
});

const activation = (overrides: Partial<ActivationConfigInput> = {}): ActivationConfigInput => ({
  id: 'orders-to-reviews',
  destinationId: 'acme-trustpilot',
  source: { kind: 'table', name: 'orders' },
  primaryKey: 'order_id',
  mapping: { consumerName: 'name', consumerEmail: 'email', referenceNumber: 'order_id' },
  schedule: { every: '5m' },
  ...overrides,
});

function issuesOf(result: ReturnType<typeof parseConfigs>): ConfigIssue[] {
  if (result.ok) throw new Error('expected configuration issues, got a valid configuration');
  return result.issues;
}

function resolvedOf(result: ReturnType<typeof parseConfigs>): ResolvedActivation {
  if (!result.ok) throw new Error(`expected a valid configuration, got: ${JSON.stringify(result.issues)}`);
  return result.resolved;
}

function paths(issues: ConfigIssue[]): string[] {
  return issues.map((issue) => issue.path);
}

describe('destination and activation schemas', () => {
  it('fills every default of a minimal configuration', () => {
    const result = parseConfigs(destination(), activation());
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(result.destination).toStrictEqual({
      id: 'acme-trustpilot',
      businessUnitId: '5f0c1a2b3c4d5e6f7a8b9c0d',
      invitationType: 'service',
      defaults: {},
      credentials: {
        grant: 'client_credentials',
        apiKeyEnv: 'TRUSTPILOT_API_KEY',
        apiSecretEnv: 'TRUSTPILOT_API_SECRET',
        businessUserIdEnv: 'TRUSTPILOT_BUSINESS_USER_ID',
      },
      rateLimit: { calls: 833, perSeconds: 300 },
      circuitBreaker: { failuresInARow: 20 },
    });
    expect(result.activation).toStrictEqual({
      id: 'orders-to-reviews',
      destinationId: 'acme-trustpilot',
      source: { kind: 'table', schema: 'public', name: 'orders' },
      primaryKey: ['order_id'],
      target: {},
      mapping: { consumerName: 'name', consumerEmail: 'email', referenceNumber: 'order_id' },
      schedule: { every: '5m', paused: false, catchupWindow: '10m' },
      firstRunPolicy: 'send_all',
      maxRunsForFailedRows: 5,
      concurrency: 8,
      statementTimeout: '5m',
      pauseAfterFailures: 3,
      enabled: true,
    });
    expect(result.resolved).toStrictEqual({
      activationId: 'orders-to-reviews',
      destinationId: 'acme-trustpilot',
      businessUnitId: '5f0c1a2b3c4d5e6f7a8b9c0d',
      invitationType: 'service',
      settings: {},
      mapping: { consumerName: 'name', consumerEmail: 'email', referenceNumber: 'order_id' },
    });
  });

  it('accepts every destination option and every activation option with fixed settings', () => {
    const fullDestination: DestinationConfigInput = {
      id: 'acme-eu',
      name: 'Acme EU',
      businessUnitId: 'bu-eu',
      invitationType: 'both',
      defaults: {
        serviceTemplateId: 'svc-tpl',
        serviceRedirectUri: 'https://acme.example/thanks',
        productTemplateId: 'prd-tpl',
        productRedirectUri: 'http://acme.example/products',
        senderName: 'Acme',
        senderEmail: 'noreply@acme.example',
        replyTo: 'care@acme.example',
      },
      credentials: {
        grant: 'password',
        apiKeyEnv: 'ACME_TP_KEY',
        apiSecretEnv: 'ACME_TP_SECRET',
        usernameEnv: 'ACME_TP_USER',
        passwordEnv: 'ACME_TP_PASSWORD',
        businessUserIdEnv: 'ACME_TP_BUSINESS_USER',
      },
      rateLimit: { calls: 100, perSeconds: 60 },
    };
    const fullActivation: ActivationConfigInput = {
      id: 'eu-orders',
      name: 'EU orders',
      destinationId: 'acme-eu',
      source: { kind: 'query', sql: "WITH recent AS (SELECT * FROM shop.orders WHERE status = 'shipped') SELECT * FROM recent;" },
      primaryKey: ['shop_id', 'order_id'],
      cursor: { column: 'updated_at', lookback: '2h' },
      target: {
        businessUnitId: 'bu-eu-2',
        invitationType: 'both',
        serviceTemplateId: 'svc-tpl-2',
        serviceRedirectUri: 'https://acme.example/thanks-2',
        productTemplateId: 'prd-tpl-2',
        productRedirectUri: 'https://acme.example/products-2',
        senderName: 'Acme Shop',
        senderEmail: 'shop@acme.example',
        replyTo: 'help@acme.example',
      },
      products: { mode: 'fixed', skus: ['SKU-1', 'SKU-2', 'SKU-1'] },
      mapping: {
        consumerName: 'Full Name',
        consumerEmail: 'email',
        referenceNumber: 'order_id',
        locale: 'locale',
        locationId: 'store_id',
        serviceReviewTags: 'tags',
        servicePreferredSendTime: 'service_at',
        productPreferredSendTime: 'product_at',
      },
      schedule: { cron: '0 9 * * 1-5', paused: true, catchupWindow: '1h' },
      firstRunPolicy: 'baseline',
      maxRunsForFailedRows: 3,
      concurrency: 4,
      enabled: false,
    };
    const result = parseConfigs(fullDestination, fullActivation);
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(result.destination.credentials).toStrictEqual(fullDestination.credentials);
    expect(result.activation.products).toStrictEqual({ mode: 'fixed', skus: ['SKU-1', 'SKU-2'] });
    expect(result.activation.schedule).toStrictEqual({ cron: '0 9 * * 1-5', paused: true, catchupWindow: '1h' });
    expect(result.activation.cursor).toStrictEqual({ column: 'updated_at', lookback: '2h', fullScanEvery: '1d' });
    expect(result.activation.enabled).toBe(false);
    expect(result.resolved).toStrictEqual({
      activationId: 'eu-orders',
      destinationId: 'acme-eu',
      businessUnitId: 'bu-eu-2',
      invitationType: 'both',
      settings: {
        serviceTemplateId: 'svc-tpl-2',
        serviceRedirectUri: 'https://acme.example/thanks-2',
        productTemplateId: 'prd-tpl-2',
        productRedirectUri: 'https://acme.example/products-2',
        senderName: 'Acme Shop',
        senderEmail: 'shop@acme.example',
        replyTo: 'help@acme.example',
      },
      mapping: fullActivation.mapping,
      products: { mode: 'fixed', skus: ['SKU-1', 'SKU-2'] },
    });
  });

  it('accepts every mapped field when nothing is fixed', () => {
    const mapping = {
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
    };
    const result = parseConfigs(
      destination({ invitationType: 'both' }),
      activation({ source: { kind: 'view', schema: 'marts', name: 'shipped_orders' }, products: { mode: 'per_row' }, mapping }),
    );
    const resolved = resolvedOf(result);
    expect(resolved.mapping).toStrictEqual(mapping);
    expect(resolved.products).toStrictEqual({ mode: 'per_row' });
  });

  it('reports every mistake of both configs at once, each at its own path', () => {
    const result = parseConfigs(
      { id: 'Acme Trustpilot', businessUnitId: '', invitationType: 'reviews', apiSecret: 'hunter2' },
      {
        id: 'orders',
        destinationId: 'acme',
        source: { kind: 'query', sql: 'DROP TABLE orders' },
        primaryKey: [],
        mapping: { consumerName: 'name', consumerEmail: 'email', referenceNumber: 'order_id', senderNmae: 'sender' },
        products: { mode: 'fixed', products: [{ sku: 'A', name: 'Shoe' }] },
        schedule: { every: '5 minutes' },
        concurrency: 0,
      },
    );
    const issues = issuesOf(result);
    expect(paths(issues)).toEqual(
      expect.arrayContaining([
        'destination.id',
        'destination.businessUnitId',
        'destination.invitationType',
        'destination.apiSecret',
        'activation.source.sql',
        'activation.primaryKey',
        'activation.mapping.senderNmae',
        'activation.products.products',
        'activation.schedule.every',
        'activation.concurrency',
      ]),
    );
    expect(issues.find((issue) => issue.path === 'activation.mapping.senderNmae')?.message).toContain(
      'allowed keys: consumerName, consumerEmail, referenceNumber, replyTo, locale, senderName',
    );
    expect(issues.find((issue) => issue.path === 'activation.products.products')?.message).toBe(
      'Full product objects are not supported: provide product SKUs only',
    );
    expect(JSON.stringify(issues)).not.toContain('hunter2');
  });

  it('suggests the closest known key for an unknown one, at any depth, and none when nothing is close', () => {
    const issues = issuesOf(
      parseConfigs(
        { ...destination(), circuitBreaker: { failuresInRow: 5 } },
        {
          ...activation(),
          shedule: { every: '5m' },
          source: { kind: 'table', nmae: 'orders' },
          mapping: { consumerName: 'name', consumerEmail: 'email', referenceNumber: 'order_id', ConsumerEmail: 'email2' },
          cursor: { column: 'created_at', lookBack: '1d' },
          frobnicate: true,
        },
      ),
    );
    const message = (path: string) => issues.find((issue) => issue.path === path)?.message;
    expect(message('activation.shedule')).toMatch(/^unknown key 'shedule'; did you mean 'schedule'\? allowed keys: id, name, destinationId, /);
    expect(message('activation.source.nmae')).toBe("unknown key 'nmae'; did you mean 'name'? allowed keys: kind, warehouse, schema, name");
    // Case alone is a typo too.
    expect(message('activation.mapping.ConsumerEmail')).toMatch(/^unknown key 'ConsumerEmail'; did you mean 'consumerEmail'\?/);
    expect(message('activation.cursor.lookBack')).toMatch(/did you mean 'lookback'\?/);
    expect(message('destination.circuitBreaker.failuresInRow')).toMatch(/did you mean 'failuresInARow'\?/);
    expect(message('activation.frobnicate')).toMatch(/^unknown key 'frobnicate'; allowed keys: /);
  });
});

describe('credentials are references, never values', () => {
  it.each(['apiKey', 'apiSecret', 'password', 'secret', 'token', 'accessToken', 'refreshToken', 'clientSecret', 'username'])(
    "refuses a value under credentials.%s",
    (key) => {
      const issues = issuesOf(
        parseConfigs(destination({ credentials: { grant: 'client_credentials', [key]: 'tpa-abc123' } as never }), activation()),
      );
      const issue = issues.find((candidate) => candidate.path === `destination.credentials.${key}`);
      expect(issue?.message).toContain(
        `credentials are referenced by environment variable name; got a value for '${key}'`,
      );
      expect(JSON.stringify(issues)).not.toContain('tpa-abc123');
    },
  );

  it('also refuses secrets placed at the top of the destination', () => {
    const issues = issuesOf(parseConfigs({ ...destination(), apiSecret: 's3cr3t' }, activation()));
    expect(issues).toStrictEqual([
      {
        path: 'destination.apiSecret',
        message:
          "credentials are referenced by environment variable name; got a value for 'apiSecret'; put environment variable names under credentials (e.g. credentials.apiKeyEnv)",
      },
    ]);
  });

  it('suggests the matching *Env key', () => {
    const result = credentialsRefSchema.safeParse({ grant: 'password', password: 'pa55' });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe(
      "credentials are referenced by environment variable name; got a value for 'password'; set passwordEnv to the NAME of the environment variable that holds it",
    );
  });

  it('refuses an environment variable "name" that looks like a value, without echoing it', () => {
    const issues = issuesOf(
      parseConfigs(destination({ credentials: { grant: 'client_credentials', apiSecretEnv: 'sk_live_9f8e7d' } }), activation()),
    );
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe('destination.credentials.apiSecretEnv');
    expect(issues[0]?.message).toContain('NAME of an environment variable');
    expect(issues[0]?.message).not.toContain('sk_live_9f8e7d');
  });

  it('fills the password grant defaults and refuses an unknown grant', () => {
    expect(credentialsRefSchema.parse({ grant: 'password' })).toStrictEqual({
      grant: 'password',
      apiKeyEnv: 'TRUSTPILOT_API_KEY',
      apiSecretEnv: 'TRUSTPILOT_API_SECRET',
      usernameEnv: 'TRUSTPILOT_USERNAME',
      passwordEnv: 'TRUSTPILOT_PASSWORD',
    });
    expect(credentialsRefSchema.safeParse({ grant: 'implicit' }).error?.issues[0]?.message).toBe(
      "grant must be 'client_credentials' or 'password'",
    );
  });
});

describe('source', () => {
  it.each([
    'SELECT * FROM orders',
    'select id, email from public.orders where shipped_at > now() - interval \'1 day\';',
    'WITH s AS (SELECT 1 AS id) SELECT * FROM s',
    "SELECT 'a;b; DELETE FROM x' AS text_with_semicolons",
    'SELECT last_update, "delete" FROM orders -- trailing comment; DROP TABLE orders',
    '/* a /* nested */ comment */ (SELECT 1)',
    'SELECT $body$ ; UPDATE t $body$ AS x',
  ])('accepts the read-only query %j', (sql) => {
    expect(sourceSchema.safeParse({ kind: 'query', sql }).success).toBe(true);
  });

  it.each([
    ['INSERT INTO orders VALUES (1)', 'INSERT statements are not allowed'],
    ['update orders set email = null', 'UPDATE statements are not allowed'],
    ['DELETE FROM orders', 'DELETE statements are not allowed'],
    ['DROP TABLE orders', 'DROP statements are not allowed'],
    ['ALTER TABLE orders ADD x int', 'ALTER statements are not allowed'],
    ['CREATE TABLE x AS SELECT 1', 'CREATE statements are not allowed'],
    ['TRUNCATE orders', 'TRUNCATE statements are not allowed'],
    ['GRANT ALL ON orders TO public', 'GRANT statements are not allowed'],
    ["COPY orders TO '/tmp/x'", 'COPY statements are not allowed'],
    ['-- a note\n/* and another */ DELETE FROM orders', 'DELETE statements are not allowed'],
    ['EXPLAIN SELECT 1', 'not allowed'],
    ['orders', 'must start with SELECT or WITH'],
    ['   ', 'is empty'],
  ])('refuses %j whatever the warehouse', (sql, reason) => {
    const result = sourceSchema.safeParse({ kind: 'query', sql });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['sql']);
    expect(result.error?.issues[0]?.message).toContain(reason);
  });

  // Strings and comments differ between dialects (MySQL escapes quotes with a backslash): the
  // rest is the warehouse's engine's to check, and its server's to refuse.
  it.each(["SELECT 'it\\'s' AS mysql_string, 1 AS id", 'SELECT 1; SELECT 2'])('leaves %j to the engine of the warehouse', (sql) => {
    expect(sourceSchema.safeParse({ kind: 'query', sql }).success).toBe(true);
  });

  it.each([
    ['SELECT 1; SELECT 2', 'single statement'],
    ['SELECT * FROM orders; DROP TABLE orders', 'single statement'],
    ['WITH gone AS (DELETE FROM orders RETURNING *) SELECT * FROM gone', 'DELETE is not allowed'],
    ['SELECT * INTO backup FROM orders', 'SELECT ... INTO creates a table'],
    ['SELECT * FROM orders FOR UPDATE', 'UPDATE is not allowed'],
    ["SELECT 'unterminated", 'unterminated'],
  ])("Postgres' friendly check refuses %j", (sql, reason) => {
    expect(findReadOnlySqlProblem(sql)).toContain(reason);
  });

  it('refuses table and schema names that are not plain identifiers, and unknown kinds', () => {
    expect(sourceSchema.safeParse({ kind: 'table', name: 'orders; drop table x' }).success).toBe(false);
    expect(sourceSchema.safeParse({ kind: 'view', schema: 'my-schema', name: 'orders' }).success).toBe(false);
    expect(sourceSchema.safeParse({ kind: 'table', name: 'a'.repeat(64) }).success).toBe(false);
    expect(sourceSchema.safeParse({ kind: 'file', name: 'orders' }).error?.issues[0]?.message).toBe(
      "kind must be 'table', 'view', 'query' or 'files'",
    );
  });
});

describe('products, schedule and durations', () => {
  it.each([
    [{ mode: 'fixed', products: [{ sku: 'A', productUrl: 'https://x' }] }, 'products', 'Full product objects are not supported: provide product SKUs only'],
    [{ mode: 'fixed', skus: [{ sku: 'A', name: 'Shoe' }] }, 'skus.0', 'Full product objects are not supported: provide product SKUs only'],
    [{ mode: 'fixed', skus: [] }, 'skus', 'at least one product SKU'],
    [{ mode: 'fixed', skus: ['  '] }, 'skus.0', 'must not be empty'],
    [{ mode: 'fixed' }, 'skus', "mode 'fixed' needs skus"],
    [{ mode: 'per_row', skus: ['A'] }, 'skus', 'map the SKU column as mapping.productSkus'],
    [{ mode: 'per_row', product: { sku: 'A' } }, 'product', 'Full product objects are not supported'],
    [{ mode: 'catalogue' }, 'mode', "mode must be 'per_row'"],
  ])('refuses product settings %j', (input, path, message) => {
    const result = productSettingsSchema.safeParse(input);
    expect(result.success).toBe(false);
    const issuePath = (issue: NonNullable<typeof result.error>['issues'][number]) =>
      [...issue.path, ...(issue.code === 'unrecognized_keys' ? issue.keys : [])].join('.');
    const issue = result.error?.issues.find((candidate) => issuePath(candidate) === path);
    expect(issue?.message).toContain(message);
  });

  it.each([
    ['30s', 30_000],
    ['1m', 60_000],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['1h30m', 5_400_000],
    ['0s', 0],
  ])('parses the duration %s', (text, milliseconds) => {
    expect(parseDuration(text)).toBe(milliseconds);
  });

  it.each(['', '5', 'm', '1w', '-1m', '1.5h', '5 minutes', '1m 30s'])('refuses the duration %j', (text) => {
    expect(() => parseDuration(text)).toThrow(/invalid duration/);
  });

  it.each([
    [{ every: '5m', cron: '* * * * *' }, 'exactly one'],
    [{}, 'exactly one'],
    [{ every: '30s' }, 'at least 1m'],
    [{ every: 'hourly' }, "duration like '30s'"],
    [{ cron: '0 9 * *' }, '5-field cron'],
    [{ cron: '0 9 * * 1', catchupWindow: '1s' }, 'at least 10s'],
    [{ every: '1h', pause: true }, "unknown key 'pause'; did you mean 'paused'? allowed keys: every, cron, paused, catchupWindow"],
    [{ every: '1h', catchUpWindow: '1m' }, "unknown key 'catchUpWindow'; did you mean 'catchupWindow'?"],
  ])('refuses the schedule %j', (input, message) => {
    const result = scheduleSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.message).join(' | ')).toContain(message);
  });
});

describe('resolution rules', () => {
  it.each<[string, DestinationConfigInput, ActivationConfigInput, ConfigIssue]>([
    [
      'a destination-wide sender name also mapped per row',
      destination({ defaults: { senderName: 'Acme' } }),
      activation({ mapping: { consumerName: 'n', consumerEmail: 'e', referenceNumber: 'r', senderName: 'sender' } }),
      {
        path: 'activation.mapping.senderName',
        message:
          'senderName is set for every row at the destination level (destination.defaults.senderName) and cannot also be mapped; remove one',
      },
    ],
    [
      'an activation-wide sender email also mapped per row',
      destination(),
      activation({
        target: { senderEmail: 'shop@acme.example' },
        mapping: { consumerName: 'n', consumerEmail: 'e', referenceNumber: 'r', senderEmail: 'sender_email' },
      }),
      {
        path: 'activation.mapping.senderEmail',
        message:
          'senderEmail is set for every row at the activation level (activation.target.senderEmail) and cannot also be mapped; remove one',
      },
    ],
    [
      'a reply-to set at both levels and mapped',
      destination({ defaults: { replyTo: 'a@acme.example' } }),
      activation({
        target: { replyTo: 'b@acme.example' },
        mapping: { consumerName: 'n', consumerEmail: 'e', referenceNumber: 'r', replyTo: 'reply' },
      }),
      {
        path: 'activation.mapping.replyTo',
        message:
          'replyTo is set for every row at the activation level (activation.target.replyTo) and cannot also be mapped; remove one',
      },
    ],
    [
      'a product invitation without product settings',
      destination({ invitationType: 'product' }),
      activation(),
      {
        path: 'activation.products',
        message: "invitationType 'product' needs products: { mode: 'per_row' } with mapping.productSkus, or { mode: 'fixed', skus: [...] }",
      },
    ],
    [
      'product settings on a service-only activation',
      destination(),
      activation({ products: { mode: 'fixed', skus: ['A'] } }),
      { path: 'activation.products', message: "products applies to product invitations but invitationType is 'service'; remove it or change invitationType" },
    ],
    [
      'a product template on a service-only activation',
      destination({ invitationType: 'both' }),
      activation({ target: { invitationType: 'service', productTemplateId: 'prd' } }),
      { path: 'activation.target.productTemplateId', message: "productTemplateId applies to product invitations but invitationType is 'service'; remove it or change invitationType" },
    ],
    [
      'a product send time mapped on a service-only activation',
      destination(),
      activation({ mapping: { consumerName: 'n', consumerEmail: 'e', referenceNumber: 'r', productPreferredSendTime: 'at' } }),
      { path: 'activation.mapping.productPreferredSendTime', message: "mapping.productPreferredSendTime applies to product invitations but invitationType is 'service'; remove it or change invitationType" },
    ],
    [
      'service tags mapped on a product-only activation',
      destination({ invitationType: 'product' }),
      activation({ products: { mode: 'fixed', skus: ['A'] }, mapping: { consumerName: 'n', consumerEmail: 'e', referenceNumber: 'r', serviceReviewTags: 'tags' } }),
      { path: 'activation.mapping.serviceReviewTags', message: "mapping.serviceReviewTags applies to service invitations but invitationType is 'product'; remove it or change invitationType" },
    ],
    [
      'a service redirect on a product-only activation',
      destination({ invitationType: 'product' }),
      activation({ target: { serviceRedirectUri: 'https://acme.example' }, products: { mode: 'fixed', skus: ['A'] } }),
      { path: 'activation.target.serviceRedirectUri', message: "serviceRedirectUri applies to service invitations but invitationType is 'product'; remove it or change invitationType" },
    ],
    [
      'per-row products without a SKU column',
      destination({ invitationType: 'product' }),
      activation({ products: { mode: 'per_row' } }),
      { path: 'activation.mapping.productSkus', message: "products.mode 'per_row' reads the SKUs of each row from a column: map it as mapping.productSkus" },
    ],
    [
      'fixed products with a SKU column too',
      destination({ invitationType: 'product' }),
      activation({ products: { mode: 'fixed', skus: ['A'] }, mapping: { consumerName: 'n', consumerEmail: 'e', referenceNumber: 'r', productSkus: 'sku' } }),
      { path: 'activation.mapping.productSkus', message: "products.mode 'fixed' sends the configured skus for every row, so mapping.productSkus cannot also be set; remove one, or use mode 'per_row'" },
    ],
    [
      'a primary key column listed twice',
      destination(),
      activation({ primaryKey: ['shop_id', 'order_id', 'shop_id'] }),
      { path: 'activation.primaryKey', message: "primaryKey lists column 'shop_id' more than once" },
    ],
    [
      'an empty primary key column',
      destination(),
      activation({ primaryKey: ['order_id', ' '] }),
      { path: 'activation.primaryKey.1', message: 'column name must not be empty' },
    ],
    [
      'a destination whose product defaults cannot apply to its own type',
      destination({ defaults: { productRedirectUri: 'https://acme.example/p' } }),
      activation(),
      { path: 'destination.defaults.productRedirectUri', message: "productRedirectUri applies to product invitations but invitationType is 'service'; remove it or change invitationType" },
    ],
    [
      'a redirect that is not http(s)',
      destination({ defaults: { serviceRedirectUri: 'javascript:alert(1)' } }),
      activation(),
      { path: 'destination.defaults.serviceRedirectUri', message: 'must be an http:// or https:// URL' },
    ],
    [
      'a fixed sender email that is not an email',
      destination({ defaults: { senderEmail: 'noreply-at-acme' } }),
      activation(),
      { path: 'destination.defaults.senderEmail', message: 'must be a valid email address' },
    ],
  ])('refuses %s', (_name, destinationInput, activationInput, expected) => {
    expect(issuesOf(parseConfigs(destinationInput, activationInput))).toStrictEqual([expected]);
  });

  it('ignores destination defaults for a kind the activation does not send', () => {
    const resolved = resolvedOf(
      parseConfigs(
        destination({ invitationType: 'both', defaults: { productTemplateId: 'prd', serviceTemplateId: 'svc' } }),
        activation({ target: { invitationType: 'service' } }),
      ),
    );
    expect(resolved.invitationType).toBe('service');
    expect(resolved.settings).toStrictEqual({ serviceTemplateId: 'svc' });
  });

  it('refuses an activation resolved against another destination', () => {
    const parsedDestination = destinationConfigSchema.parse(destination({ id: 'other' }));
    const parsedActivation = activationConfigSchema.parse(activation());
    expect(resolveActivation(parsedDestination, parsedActivation)).toStrictEqual({
      ok: false,
      issues: [
        {
          path: 'activation.destinationId',
          message: "activation refers to destination 'acme-trustpilot' but was given destination 'other'",
        },
      ],
    });
  });
});

/*
 * Precedence: a value set at the destination applies to every row; the activation
 * overrides it; a field set at neither level may be mapped per row; otherwise omitted
 * (Trustpilot's account default applies).
 */
describe('precedence, down to the request body', () => {
  type Level = 'destination default' | 'activation overrides destination' | 'mapped per row' | 'omitted';
  type Scenario = { type: 'service' } | { type: 'product' | 'both'; mode: 'per_row' | 'fixed' };

  const destinationDefaults = {
    serviceTemplateId: 'dest-svc-tpl',
    serviceRedirectUri: 'https://acme.example/dest-service',
    productTemplateId: 'dest-prd-tpl',
    productRedirectUri: 'https://acme.example/dest-product',
    senderName: 'Acme (destination)',
    senderEmail: 'dest@acme.example',
    replyTo: 'dest-reply@acme.example',
  };
  const activationTarget = {
    serviceTemplateId: 'act-svc-tpl',
    serviceRedirectUri: 'https://acme.example/act-service',
    productTemplateId: 'act-prd-tpl',
    productRedirectUri: 'https://acme.example/act-product',
    senderName: 'Acme (activation)',
    senderEmail: 'act@acme.example',
    replyTo: 'act-reply@acme.example',
  };
  const row = {
    order_id: 1001,
    name: 'Jane Doe',
    email: 'jane@example.com',
    sender_name: 'Row Sender',
    sender_email: 'row@acme.example',
    reply_to: 'row-reply@acme.example',
    sku: 'ROW-SKU',
  };
  const requiredFields = { consumerEmail: 'jane@example.com', consumerName: 'Jane Doe', referenceNumber: '1001', type: 'email' as const };

  const expectedByLevel: Record<Level, { top: Partial<InvitationRequest>; service: object; product: object }> = {
    'destination default': {
      top: { senderEmail: 'dest@acme.example', senderName: 'Acme (destination)', replyTo: 'dest-reply@acme.example' },
      service: { templateId: 'dest-svc-tpl', redirectUri: 'https://acme.example/dest-service' },
      product: { templateId: 'dest-prd-tpl', redirectUri: 'https://acme.example/dest-product' },
    },
    'activation overrides destination': {
      top: { senderEmail: 'act@acme.example', senderName: 'Acme (activation)', replyTo: 'act-reply@acme.example' },
      service: { templateId: 'act-svc-tpl', redirectUri: 'https://acme.example/act-service' },
      product: { templateId: 'act-prd-tpl', redirectUri: 'https://acme.example/act-product' },
    },
    'mapped per row': {
      top: { senderEmail: 'row@acme.example', senderName: 'Row Sender', replyTo: 'row-reply@acme.example' },
      service: {},
      product: {},
    },
    omitted: { top: {}, service: {}, product: {} },
  };

  const scenarios: Scenario[] = [
    { type: 'service' },
    { type: 'product', mode: 'per_row' },
    { type: 'product', mode: 'fixed' },
    { type: 'both', mode: 'per_row' },
    { type: 'both', mode: 'fixed' },
  ];
  const levels = Object.keys(expectedByLevel) as Level[];
  const table = scenarios.flatMap((scenario) =>
    levels.map((level) => ({ label: scenario.type === 'service' ? 'service' : `${scenario.type} (${scenario.mode})`, scenario, level })),
  );

  function onlyKind(settings: typeof destinationDefaults, type: Scenario['type']): Partial<typeof destinationDefaults> {
    return Object.fromEntries(
      Object.entries(settings).filter(([key]) => !(type === 'service' && key.startsWith('product')) && !(type === 'product' && key.startsWith('service'))),
    );
  }

  it.each(table)('$label: $level', ({ scenario, level }) => {
    const products = scenario.type === 'service' ? undefined : scenario.mode === 'fixed' ? { mode: 'fixed' as const, skus: ['FIX-1', 'FIX-2'] } : { mode: 'per_row' as const };
    const mapping = {
      consumerName: 'name',
      consumerEmail: 'email',
      referenceNumber: 'order_id',
      ...(level === 'mapped per row' ? { senderName: 'sender_name', senderEmail: 'sender_email', replyTo: 'reply_to' } : {}),
      ...(products?.mode === 'per_row' ? { productSkus: 'sku' } : {}),
    };
    const resolved = resolvedOf(
      parseConfigs(
        destination({
          invitationType: scenario.type,
          defaults: level === 'destination default' || level === 'activation overrides destination' ? onlyKind(destinationDefaults, scenario.type) : {},
        }),
        activation({
          target: level === 'activation overrides destination' ? onlyKind(activationTarget, scenario.type) : {},
          mapping,
          ...(products !== undefined ? { products } : {}),
        }),
      ),
    );
    const result = buildInvitation(row, resolved);
    if (!result.ok) throw new Error(JSON.stringify(result.issues));

    const expected = expectedByLevel[level];
    const skus = scenario.type !== 'service' && scenario.mode === 'fixed' ? ['FIX-1', 'FIX-2'] : ['ROW-SKU'];
    expect(result.payload).toStrictEqual({
      ...requiredFields,
      ...expected.top,
      ...(scenario.type !== 'product' ? { serviceReviewInvitation: expected.service } : {}),
      ...(scenario.type !== 'service' ? { productReviewInvitation: { ...expected.product, productSkus: skus } } : {}),
    });
  });

  it('writes the exact JSON body for "both" with activation overrides and fixed SKUs', () => {
    const resolved = resolvedOf(
      parseConfigs(
        destination({ invitationType: 'both', defaults: destinationDefaults }),
        activation({ target: { productTemplateId: 'act-prd-tpl', senderName: 'Acme (activation)' }, products: { mode: 'fixed', skus: ['FIX-1'] } }),
      ),
    );
    const result = buildInvitation(row, resolved);
    expect(result.ok && JSON.stringify(result.payload)).toBe(
      JSON.stringify({
        consumerEmail: 'jane@example.com',
        consumerName: 'Jane Doe',
        referenceNumber: '1001',
        senderEmail: 'dest@acme.example',
        senderName: 'Acme (activation)',
        replyTo: 'dest-reply@acme.example',
        type: 'email',
        serviceReviewInvitation: { templateId: 'dest-svc-tpl', redirectUri: 'https://acme.example/dest-service' },
        productReviewInvitation: { templateId: 'act-prd-tpl', redirectUri: 'https://acme.example/dest-product', productSkus: ['FIX-1'] },
      }),
    );
  });

  it('sends to the activation business unit when it overrides the destination', () => {
    const resolved = resolvedOf(parseConfigs(destination(), activation({ target: { businessUnitId: 'bu-override' } })));
    expect(resolved.businessUnitId).toBe('bu-override');
  });
});
