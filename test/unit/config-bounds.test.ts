import { describe, expect, it } from 'vitest';
import { CredentialsError, resolveCredentials } from '../../src/trustpilot/credentials.ts';
import { activationConfigSchema, destinationConfigSchema, parseConfigs, type ConfigIssue } from '../../src/domain/index.ts';
import { activationInput, destinationInput } from '../fixtures.ts';

// Raw input, as read from a configuration file: bounds are what the schemas are for.
const destination = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({ ...destinationInput(), ...overrides });

const activation = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({ ...activationInput(), ...overrides });

function issuesOf(result: ReturnType<typeof parseConfigs>): ConfigIssue[] {
  if (result.ok) throw new Error('expected configuration issues, got a valid configuration');
  return result.issues;
}

function issueAt(result: ReturnType<typeof parseConfigs>, path: string): ConfigIssue {
  const issue = issuesOf(result).find((candidate) => candidate.path === path);
  if (!issue) throw new Error(`no issue at ${path}: ${JSON.stringify(issuesOf(result))}`);
  return issue;
}

function expectValid(result: ReturnType<typeof parseConfigs>): void {
  if (!result.ok) throw new Error(`expected a valid configuration, got ${JSON.stringify(result.issues)}`);
}

describe('schedule.cron', () => {
  it.each([
    ['99 99 99 99 99', /not a valid cron expression/],
    ['a b c d e', /not a valid cron expression/],
    ['0 0 31 2 *', /not a valid cron expression/],
    ['0 0 30 2 *', /not a valid cron expression/],
    ['@daily', /5-field cron expression/],
    ['0 0 1 1 * 2030', /5-field cron expression/],
    ['', /5-field cron expression/],
  ])("refuses '%s' with a message", (cron, message) => {
    const issue = issueAt(parseConfigs(destination(), activation({ schedule: { cron } })), 'activation.schedule.cron');
    expect(issue.message).toMatch(message);
  });

  it.each(['*/15 * * * *', '0 9 * * 1-5', '0 0 29 2 *', ' 30 6 * * 0 '])("accepts '%s'", (cron) => {
    expectValid(parseConfigs(destination(), activation({ schedule: { cron } })));
  });

  // What cron-parser (and other dialects) accept but a Temporal schedule refuses: validate must refuse it too.
  it.each([
    ['0 9 L * *', "day of month 'L': 'L' (last day or weekday) is not supported"],
    ['0 9 * * 5L', "day of week '5L': 'L' (last day or weekday) is not supported"],
    ['0 0 LW * *', "day of month 'LW': 'L' (last day or weekday) is not supported"],
    ['H 9 * * *', "minute 'H': 'H' (a hashed value) is not supported: choose a fixed value"],
    ['H/15 * * * *', "minute 'H/15': 'H' (a hashed value) is not supported"],
    ['0 9 15W * *', "day of month '15W': 'W' (nearest weekday) is not supported"],
    ['0 9 ? * 1', "day of month '?': '?' is not supported: use '*'"],
    // Temporal would read '#2' as a comment and fire every Monday.
    ['0 9 * * 1#2', "day of week '1#2': '#' (nth weekday of the month) is not supported"],
    ['0 9 * * FRI-MON', "day of week 'FRI-MON': a range is two values"],
    ['0 9 * * t', "day of week 't': not a number from 0 to 7 or a name"],
    ['*/0 * * * *', "minute '*/0': a step is '/' and a whole number of at least 1"],
    ['0 24 * * *', "hour '24': not a number from 0 to 23"],
  ])("refuses '%s' as a Temporal schedule would, saying why", (cron, message) => {
    const issue = issueAt(parseConfigs(destination(), activation({ schedule: { cron } })), 'activation.schedule.cron');
    expect(issue.message).toMatch(/^is not a valid cron expression for a Temporal schedule: /);
    expect(issue.message).toContain(message);
  });

  // Names and prefixes as Temporal reads them; 7 is Sunday; a step on a single value runs to the end.
  it.each(['0 9 * JUL,APR MON-FRI', '0 9 * * tu', '0 9 * jan-mar sun-sat', '0 9 * * 0-7', '0 9 * * 1-7/2', '1-5/2,8 * * * *', '5/20 * * * *', '0 9 1-7 * mon'])(
    "accepts '%s', as a Temporal schedule does",
    (cron) => {
      expectValid(parseConfigs(destination(), activation({ schedule: { cron } })));
    },
  );

  it('fires on days matching both the day of month and the day of week, as Temporal does: a Monday the 31st exists, a Monday the 30th of February not', () => {
    expectValid(parseConfigs(destination(), activation({ schedule: { cron: '0 9 31 * 1' } })));
    const issue = issueAt(parseConfigs(destination(), activation({ schedule: { cron: '0 9 30 2 1' } })), 'activation.schedule.cron');
    expect(issue.message).toMatch(/never fires .*needs both to match/);
  });

  it('refuses both every and cron, and neither', () => {
    const both = issuesOf(parseConfigs(destination(), activation({ schedule: { every: '5m', cron: '*/5 * * * *' } })));
    expect(both.map((issue) => issue.message)).toContain("set exactly one of 'every' (e.g. '5m') or 'cron' (e.g. '0 * * * *')");
    const neither = issuesOf(parseConfigs(destination(), activation({ schedule: {} })));
    expect(neither.map((issue) => issue.message)).toContain("set exactly one of 'every' (e.g. '5m') or 'cron' (e.g. '0 * * * *')");
  });
});

describe('durations', () => {
  it.each([
    ['schedule.every', { schedule: { every: '99999999d' } }],
    ['cursor.lookback', { cursor: { column: 'updated_at', lookback: '99999999d' } }],
    ['cursor.fullScanEvery', { cursor: { column: 'updated_at', fullScanEvery: '99999999d' } }],
  ])("refuses '99999999d' for %s: at most 366d", (path, overrides) => {
    expect(issueAt(parseConfigs(destination(), activation(overrides)), `activation.${path}`).message).toBe('must be at most 366d');
  });

  it('refuses a duration too long to count in milliseconds as not a duration', () => {
    const issue = issueAt(parseConfigs(destination(), activation({ schedule: { every: '9999999999999d' } })), 'activation.schedule.every');
    expect(issue.message).toContain('must be a duration');
  });

  it.each([
    ['schedule.every', { schedule: { every: '30s' } }],
    ['cursor.fullScanEvery', { cursor: { column: 'updated_at', fullScanEvery: '30s' } }],
  ])("refuses '30s' for %s: at least 1m", (path, overrides) => {
    expect(issueAt(parseConfigs(destination(), activation(overrides)), `activation.${path}`).message).toBe('must be at least 1m');
  });

  it('accepts the bounds of schedule.every: 1m and 366d', () => {
    expectValid(parseConfigs(destination(), activation({ schedule: { every: '1m' } })));
    expectValid(parseConfigs(destination(), activation({ schedule: { every: '366d' } })));
  });

  it('refuses text that is not a duration', () => {
    for (const every of ['5 minutes', '1w', '-5m', '5M', '']) {
      expect(issueAt(parseConfigs(destination(), activation({ schedule: { every } })), 'activation.schedule.every').message).toContain(
        "must be a duration like '30s', '5m', '2h' or '1d'",
      );
    }
  });

  it('refuses a catchupWindow above 7d and below 10s', () => {
    const above = parseConfigs(destination(), activation({ schedule: { every: '5m', catchupWindow: '7d1s' } }));
    expect(issueAt(above, 'activation.schedule.catchupWindow').message).toBe('must be at most 7d');
    const below = parseConfigs(destination(), activation({ schedule: { every: '5m', catchupWindow: '9s' } }));
    expect(issueAt(below, 'activation.schedule.catchupWindow').message).toBe('must be at least 10s');
    expectValid(parseConfigs(destination(), activation({ schedule: { every: '5m', catchupWindow: '7d' } })));
  });

  it('bounds statementTimeout to 1s..6h', () => {
    expect(issueAt(parseConfigs(destination(), activation({ statementTimeout: '0s' })), 'activation.statementTimeout').message).toBe('must be at least 1s');
    expect(issueAt(parseConfigs(destination(), activation({ statementTimeout: '6h1s' })), 'activation.statementTimeout').message).toBe('must be at most 6h');
    expect(issueAt(parseConfigs(destination(), activation({ statementTimeout: '1d' })), 'activation.statementTimeout').message).toBe('must be at most 6h');
    expectValid(parseConfigs(destination(), activation({ statementTimeout: '1s' })));
    expectValid(parseConfigs(destination(), activation({ statementTimeout: '6h' })));
  });

  it("defaults cursor.fullScanEvery to '1d' and cursor.lookback to '1d'", () => {
    const parsed = activationConfigSchema.parse(activation({ cursor: { column: 'updated_at' } }));
    expect(parsed.cursor).toStrictEqual({ column: 'updated_at', lookback: '1d', fullScanEvery: '1d' });
  });

  it("accepts a zero look-back ('0s')", () => {
    expectValid(parseConfigs(destination(), activation({ cursor: { column: 'updated_at', lookback: '0s' } })));
  });
});

describe('destination.rateLimit', () => {
  it('refuses one call per 100000000 seconds: perSeconds is at most a day', () => {
    const result = parseConfigs(destination({ rateLimit: { calls: 1, perSeconds: 100_000_000 } }), activation());
    expect(issueAt(result, 'destination.rateLimit.perSeconds').message).toMatch(/86400/);
  });

  it('refuses one call per 120 seconds: less than one call a minute', () => {
    const result = parseConfigs(destination({ rateLimit: { calls: 1, perSeconds: 120 } }), activation());
    expect(issuesOf(result).map((issue) => issue.message)).toContain(
      'rateLimit allows less than one call a minute; Trustpilot allows 833 calls per 300 seconds',
    );
  });

  it('accepts one call a minute exactly, and the documented 833 calls per 300 seconds', () => {
    expectValid(parseConfigs(destination({ rateLimit: { calls: 1, perSeconds: 60 } }), activation()));
    expectValid(parseConfigs(destination({ rateLimit: { calls: 833, perSeconds: 300 } }), activation()));
  });

  it('refuses zero or fractional calls', () => {
    expect(destinationConfigSchema.safeParse(destination({ rateLimit: { calls: 0, perSeconds: 60 } })).success).toBe(false);
    expect(destinationConfigSchema.safeParse(destination({ rateLimit: { calls: 1.5, perSeconds: 60 } })).success).toBe(false);
  });

  it('defaults to 833 calls per 300 seconds', () => {
    expect(destinationConfigSchema.parse(destination()).rateLimit).toStrictEqual({ calls: 833, perSeconds: 300 });
  });
});

describe('destination.circuitBreaker', () => {
  it.each([2, 1_001, 0, 10.5])('refuses failuresInARow %s', (failuresInARow) => {
    const result = parseConfigs(destination({ circuitBreaker: { failuresInARow } }), activation());
    expect(issueAt(result, 'destination.circuitBreaker.failuresInARow').message).not.toBe('');
  });

  it.each([3, 20, 1_000])('accepts failuresInARow %s', (failuresInARow) => {
    expectValid(parseConfigs(destination({ circuitBreaker: { failuresInARow } }), activation()));
  });

  it('defaults to 20 failures in a row', () => {
    expect(destinationConfigSchema.parse(destination()).circuitBreaker).toStrictEqual({ failuresInARow: 20 });
  });
});

describe('alerts', () => {
  it('takes the NAME of the variable holding the webhook URL', () => {
    expectValid(parseConfigs(destination({ alerts: { webhookUrlEnv: 'SLACK_WEBHOOK_URL', rejectedShareAbove: 0.2 } }), activation()));
    expectValid(parseConfigs(destination(), activation({ alerts: { webhookUrlEnv: 'ORDERS_ALERTS_URL' } })));
  });

  it('refuses the URL itself, on the destination and on the activation', () => {
    const url = 'https://hooks.slack.com/services/T000/B000/XXXXXXXX';
    const onDestination = issueAt(parseConfigs(destination({ alerts: { webhookUrlEnv: url } }), activation()), 'destination.alerts.webhookUrlEnv');
    expect(onDestination.message).toContain('must be the NAME of an environment variable');
    const onActivation = issueAt(parseConfigs(destination(), activation({ alerts: { webhookUrlEnv: url } })), 'activation.alerts.webhookUrlEnv');
    expect(onActivation.message).toContain('not its value');
  });

  it('refuses a lower-case variable name', () => {
    const result = parseConfigs(destination({ alerts: { webhookUrlEnv: 'slack_webhook_url' } }), activation());
    expect(issueAt(result, 'destination.alerts.webhookUrlEnv').message).toContain('NAME of an environment variable');
  });

  it('refuses a webhookUrl key holding the URL itself', () => {
    const result = parseConfigs(destination({ alerts: { webhookUrl: 'https://hooks.example/x' } }), activation());
    expect(issuesOf(result).some((issue) => issue.path.startsWith('destination.alerts'))).toBe(true);
  });

  it.each([-0.01, 1.01, 2])('refuses rejectedShareAbove %s, outside 0..1', (rejectedShareAbove) => {
    const result = parseConfigs(destination({ alerts: { webhookUrlEnv: 'SLACK_WEBHOOK_URL', rejectedShareAbove } }), activation());
    expect(issueAt(result, 'destination.alerts.rejectedShareAbove').message).not.toBe('');
  });

  it.each([0, 0.5, 1])('accepts rejectedShareAbove %s', (rejectedShareAbove) => {
    expectValid(parseConfigs(destination({ alerts: { webhookUrlEnv: 'SLACK_WEBHOOK_URL', rejectedShareAbove } }), activation()));
  });
});

describe('credential and webhook variable names', () => {
  const credentials = (grant: 'client_credentials' | 'password', names: Record<string, string>) => destination({ credentials: { grant, ...names } });
  const only = (what: string) => `; name a variable that holds only ${what}`;

  it('takes the defaults, the fake-free TRUSTPILOT_* names and names of your own', () => {
    expectValid(parseConfigs(destination(), activation()));
    expectValid(parseConfigs(credentials('client_credentials', { apiKeyEnv: 'ACME_TP_KEY', apiSecretEnv: 'ACME_TP_SECRET', businessUserIdEnv: 'ACME_TP_USER_ID' }), activation()));
    expectValid(
      parseConfigs(
        credentials('password', { apiKeyEnv: 'TRUSTPILOT_API_KEY', apiSecretEnv: 'TRUSTPILOT_API_SECRET', usernameEnv: 'TRUSTPILOT_USERNAME', passwordEnv: 'TRUSTPILOT_PASSWORD', businessUserIdEnv: 'TRUSTPILOT_BUSINESS_USER_ID' }),
        activation(),
      ),
    );
  });

  it('says why DATABASE_URL may not be the API key, at the path that names it', () => {
    const issue = issueAt(parseConfigs(credentials('client_credentials', { apiKeyEnv: 'DATABASE_URL' }), activation()), 'destination.credentials.apiKeyEnv');
    expect(issue.message).toBe(`DATABASE_URL holds the app database's URL${only('the API key')}`);
  });

  it.each([
    ['WAREHOUSE_DATABASE_URL', "holds the warehouse reader's database URL"],
    ['ANALYTICS_DATABASE_URL', 'holds a database URL'],
    ['WAREHOUSE_ADMIN_PASSWORD', 'configures the warehouse connection'],
    ['TEMPORAL_ADDRESS', 'sets the Temporal server address'],
    ['TEMPORAL_TLS_CLIENT_KEY', 'configures the Temporal connection'],
    ['DATABASE_POOL_SIZE', "sets the app database's pool size"],
    ['METRICS_BIND_ADDRESS', 'sets the metrics endpoint address'],
    ['LOG_LEVEL', "sets the app's log level"],
    ['SCAN_MAX_ROWS', 'sets a limit of segment scans'],
    ['TRUSTPILOT_API_URL', "holds Trustpilot's OAuth host"],
    ['TRUSTPILOT_INVITATIONS_API_URL', "holds Trustpilot's invitations host"],
    ['TRUSTPILOT_DEV_DATA_DIR', 'sets where npm start keeps its data'],
    ['FAKE_TRUSTPILOT_PORT', 'configures the fake Trustpilot server'],
    ['PGPASSWORD', "is one of libpq's connection settings"],
    ['PGSERVICEFILE', "is one of libpq's connection settings"],
    ['PATH', 'is set by the system or the runtime'],
    ['HOME', 'is set by the system or the runtime'],
    ['NODE_OPTIONS', 'configures the Node.js runtime'],
    ['POSTGRES_PASSWORD', "names a database's setting"],
    ['APP_DB_PASSWORD', "names a database's setting"],
    ['AWS_SECRET_ACCESS_KEY', "holds another service's credentials"],
    ['TRUSTPILOT_PASSWORD', 'holds the Trustpilot password'],
  ])('refuses %s as the API secret: it %s', (name, purpose) => {
    const issue = issueAt(parseConfigs(credentials('client_credentials', { apiSecretEnv: name }), activation()), 'destination.credentials.apiSecretEnv');
    expect(issue.message).toContain(`${name} ${purpose}`);
    expect(issue.message).toMatch(/; name a variable that holds only the API secret$/);
  });

  it.each([
    ['ACME_TP_URL', '_URL'],
    ['ACME_TP_URI', '_URI'],
    ['ACME_TP_DSN', '_DSN'],
  ])('refuses a credential name ending in an address suffix: %s', (name, suffix) => {
    const issue = issueAt(parseConfigs(credentials('password', { passwordEnv: name }), activation()), 'destination.credentials.passwordEnv');
    expect(issue.message).toBe(`${name} ends in ${suffix}, as variables holding addresses (often with a password, like database URLs) do${only('the Trustpilot password')}`);
  });

  it('refuses a _FILE name and says how the _FILE form is meant to be used', () => {
    const issue = issueAt(parseConfigs(credentials('password', { usernameEnv: 'ACME_TP_USER_FILE' }), activation()), 'destination.credentials.usernameEnv');
    expect(issue.message).toBe(
      'ACME_TP_USER_FILE ends in _FILE, which the reader adds itself: name ACME_TP_USER and set ACME_TP_USER_FILE to the path of a file holding the Trustpilot username',
    );
  });

  it('refuses a TRUSTPILOT_* credential variable in another role (the password as a business user id)', () => {
    const issue = issueAt(parseConfigs(credentials('password', { businessUserIdEnv: 'TRUSTPILOT_PASSWORD' }), activation()), 'destination.credentials.businessUserIdEnv');
    expect(issue.message).toBe(`TRUSTPILOT_PASSWORD holds the Trustpilot password${only('the business user id')}`);
  });

  it('refuses names that are not names, or too long to be one, without echoing them', () => {
    for (const name of ['database_url', 'DATABASE-URL', '1KEY', '', `K${'X'.repeat(100)}`]) {
      const issue = issueAt(parseConfigs(credentials('client_credentials', { apiKeyEnv: name }), activation()), 'destination.credentials.apiKeyEnv');
      expect(issue.message).toContain('NAME of an environment variable');
      if (name !== '') expect(issue.message).not.toContain(name);
    }
  });

  it('reports every refused name of one destination at once', () => {
    const issues = issuesOf(parseConfigs(credentials('client_credentials', { apiKeyEnv: 'DATABASE_URL', apiSecretEnv: 'PGPASSWORD', businessUserIdEnv: 'HOME' }), activation()));
    expect(issues.map((issue) => issue.path)).toEqual(['destination.credentials.apiKeyEnv', 'destination.credentials.apiSecretEnv', 'destination.credentials.businessUserIdEnv']);
  });

  it.each(['SLACK_WEBHOOK_URL', 'ALERT_WEBHOOK_URL', 'OPS_ALERT_WEBHOOK'])('takes %s as the webhook URL variable', (name) => {
    expectValid(parseConfigs(destination({ alerts: { webhookUrlEnv: name } }), activation({ alerts: { webhookUrlEnv: name } })));
  });

  it.each([
    ['DATABASE_URL', "DATABASE_URL holds the app database's URL"],
    ['WAREHOUSE_DATABASE_URL', "WAREHOUSE_DATABASE_URL holds the warehouse reader's database URL"],
    ['REPORTING_DATABASE_URL', 'REPORTING_DATABASE_URL holds a database URL'],
    ['REDIS_URL', "REDIS_URL names a database's setting"],
    ['TRUSTPILOT_API_URL', "TRUSTPILOT_API_URL holds Trustpilot's OAuth host"],
    ['TRUSTPILOT_API_KEY', 'TRUSTPILOT_API_KEY holds the API key'],
    ['TEMPORAL_ADDRESS', 'TEMPORAL_ADDRESS sets the Temporal server address'],
    ['PGHOST', "PGHOST is one of libpq's connection settings (PGPASSWORD is a database password)"],
    ['PATH', 'PATH is set by the system or the runtime for its own use'],
  ])('refuses %s as the webhook URL variable, on the destination and on the activation', (name, why) => {
    const onDestination = issueAt(parseConfigs(destination({ alerts: { webhookUrlEnv: name } }), activation()), 'destination.alerts.webhookUrlEnv');
    expect(onDestination.message).toBe(`${why}${only('the webhook URL')}`);
    const onActivation = issueAt(parseConfigs(destination(), activation({ alerts: { webhookUrlEnv: name } })), 'activation.alerts.webhookUrlEnv');
    expect(onActivation.message).toBe(`${why}${only('the webhook URL')}`);
  });

  it('refuses a webhook variable ending in _DSN or _FILE', () => {
    expect(issueAt(parseConfigs(destination({ alerts: { webhookUrlEnv: 'SENTRY_DSN' } }), activation()), 'destination.alerts.webhookUrlEnv').message).toMatch(/^SENTRY_DSN ends in _DSN/);
    expect(issueAt(parseConfigs(destination({ alerts: { webhookUrlEnv: 'SLACK_WEBHOOK_URL_FILE' } }), activation()), 'destination.alerts.webhookUrlEnv').message).toMatch(
      /^SLACK_WEBHOOK_URL_FILE ends in _FILE, which the reader adds itself: name SLACK_WEBHOOK_URL/,
    );
  });

  it('the worker refuses to read such a variable even for a destination that bypassed the schema', () => {
    const parsed = destinationConfigSchema.parse(destination());
    const bypassed = { ...parsed, credentials: { grant: 'client_credentials' as const, apiKeyEnv: 'DATABASE_URL', apiSecretEnv: 'TP_SECRET', businessUserIdEnv: 'TP_USER' } };
    const env = { DATABASE_URL: 'postgres://app:s3cret@db/app', TP_SECRET: 'secret', TP_USER: 'user' };
    expect(() => resolveCredentials(bypassed, env)).toThrow(CredentialsError);
    expect(() => resolveCredentials(bypassed, env)).toThrow(/DATABASE_URL holds the app database's URL/);
    expect(() => resolveCredentials(bypassed, env)).not.toThrow(/s3cret/);
    const fine = { ...bypassed, credentials: { ...bypassed.credentials, apiKeyEnv: 'TP_KEY' } };
    expect(resolveCredentials(fine, { ...env, TP_KEY: 'key' })).toMatchObject({ apiKey: 'key', apiSecret: 'secret', businessUserId: 'user' });
  });
});
