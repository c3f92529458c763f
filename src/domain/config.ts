import { z } from 'zod';
import {
  DURATION,
  columnNameSchema,
  cronSchema,
  displayNameSchema,
  durationSchema,
  emailAddressSchema,
  httpUrlSchema,
  identifierSchema,
  secretEnvNameSchema,
  skuSchema,
  slugSchema,
  templateIdSchema,
} from './config-fields.ts';
import { BUSINESS_UNIT_ID_MAX_LENGTH, SENDER_NAME_MAX_LENGTH, SKUS_MAX_COUNT, SQL_MAX_LENGTH } from './limits.ts';
import { findQueryStartProblem } from './read-only-sql.ts';
import { credentialValueHint, strictObjectWithHints, unknownKeyMessage } from './strict-object.ts';
import { activationRuleIssues, destinationRuleIssues } from './config-rules.ts';

export { parseDuration } from './duration.ts';

export const invitationTypeSchema = z.enum(['service', 'product', 'both'], {
  error: "invitationType must be 'service', 'product' or 'both'",
});
export type InvitationType = z.output<typeof invitationTypeSchema>;

const invitationSettingsShape = {
  serviceTemplateId: templateIdSchema.optional(),
  serviceRedirectUri: httpUrlSchema.optional(),
  productTemplateId: templateIdSchema.optional(),
  productRedirectUri: httpUrlSchema.optional(),
  senderName: z.string().trim().min(1, { error: 'must not be empty' }).max(SENDER_NAME_MAX_LENGTH).optional(),
  senderEmail: emailAddressSchema.optional(),
  replyTo: emailAddressSchema.optional(),
};

/** Values applied to every invitation; left out, Trustpilot's account defaults apply. */
export const invitationSettingsSchema = strictObjectWithHints(invitationSettingsShape);
export type InvitationSettings = z.output<typeof invitationSettingsSchema>;

const DEFAULT_API_KEY_ENV = 'TRUSTPILOT_API_KEY';
const DEFAULT_API_SECRET_ENV = 'TRUSTPILOT_API_SECRET';
const DEFAULT_BUSINESS_USER_ID_ENV = 'TRUSTPILOT_BUSINESS_USER_ID';

/** Credentials are never stored: configuration names the environment variables that hold them. */
export const credentialsRefSchema = z.discriminatedUnion(
  'grant',
  [
    strictObjectWithHints(
      {
        grant: z.literal('client_credentials'),
        apiKeyEnv: secretEnvNameSchema('apiKey').default(DEFAULT_API_KEY_ENV),
        apiSecretEnv: secretEnvNameSchema('apiSecret').default(DEFAULT_API_SECRET_ENV),
        // Client-credential tokens must be sent with a business USER id (not the unit id).
        businessUserIdEnv: secretEnvNameSchema('businessUserId').default(DEFAULT_BUSINESS_USER_ID_ENV),
      },
      credentialValueHint,
    ),
    strictObjectWithHints(
      {
        grant: z.literal('password'),
        apiKeyEnv: secretEnvNameSchema('apiKey').default(DEFAULT_API_KEY_ENV),
        apiSecretEnv: secretEnvNameSchema('apiSecret').default(DEFAULT_API_SECRET_ENV),
        usernameEnv: secretEnvNameSchema('username').default('TRUSTPILOT_USERNAME'),
        passwordEnv: secretEnvNameSchema('password').default('TRUSTPILOT_PASSWORD'),
        businessUserIdEnv: secretEnvNameSchema('businessUserId').optional(),
      },
      credentialValueHint,
    ),
  ],
  {
    error: (issue) =>
      issue.code === 'invalid_union' ? "grant must be 'client_credentials' or 'password'" : undefined,
  },
);

/**
 * Trustpilot asks for at most 833 calls per 5 minutes per application. Bounded so that a typo
 * cannot stall every activation on the key (one call a year) or disable pacing altogether.
 */
export const rateLimitSchema = strictObjectWithHints({
  calls: z.int().min(1).max(1_000_000).default(833),
  perSeconds: z.int().min(1).max(86_400).default(300),
}).refine((limit) => limit.perSeconds / limit.calls <= 60, {
  error: 'rateLimit allows less than one call a minute; Trustpilot allows 833 calls per 300 seconds',
});

/** Where alerts go: the URL is a secret (Slack webhook URLs are), so configuration names its variable. */
export const alertsSchema = strictObjectWithHints({
  webhookUrlEnv: secretEnvNameSchema('webhookUrl'),
  /** alert when a run's share of rejected rows exceeds this (0-1); omitted = never */
  rejectedShareAbove: z.number().min(0).max(1).optional(),
});
export type AlertsConfig = z.output<typeof alertsSchema>;

/** Stops a run's sending after this many Trustpilot failures in a row (5xx, timeouts, lost connections). */
export const circuitBreakerSchema = strictObjectWithHints({
  failuresInARow: z.int().min(3).max(1_000).default(20),
});

export const destinationConfigSchema = strictObjectWithHints(
  {
    id: slugSchema,
    name: displayNameSchema.optional(),
    businessUnitId: z.string().trim().min(1, { error: 'businessUnitId must not be empty' }).max(BUSINESS_UNIT_ID_MAX_LENGTH),
    invitationType: invitationTypeSchema,
    defaults: invitationSettingsSchema.default({}),
    credentials: credentialsRefSchema.default({
      grant: 'client_credentials',
      apiKeyEnv: DEFAULT_API_KEY_ENV,
      apiSecretEnv: DEFAULT_API_SECRET_ENV,
      businessUserIdEnv: DEFAULT_BUSINESS_USER_ID_ENV,
    }),
    rateLimit: rateLimitSchema.default({ calls: 833, perSeconds: 300 }),
    circuitBreaker: circuitBreakerSchema.default({ failuresInARow: 20 }),
    alerts: alertsSchema.optional(),
  },
  credentialValueHint,
).superRefine((destination, context) => {
  for (const issue of destinationRuleIssues(destination)) context.addIssue({ code: 'custom', ...issue });
});
export type DestinationConfig = z.output<typeof destinationConfigSchema>;
export type DestinationConfigInput = z.input<typeof destinationConfigSchema>;

const readOnlySqlSchema = z
  .string()
  .max(SQL_MAX_LENGTH)
  .superRefine((sql, context) => {
    const problem = findQueryStartProblem(sql);
    if (problem !== undefined) context.addIssue({ code: 'custom', message: `sql ${problem}` });
  });

/** A warehouse of the worker's environment: `default` (WAREHOUSE_DATABASE_URL) or the NAME of WAREHOUSE_<NAME>_URL, in lower case. */
export const warehouseNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,39}$/, { error: 'must be a warehouse name: lower-case letters, digits and _ (WAREHOUSE_<NAME>_URL in the environment), or default' });

/** A path under a files warehouse's root: relative, no `..`, globs allowed (`exports/part-*.parquet`, or `**` for every folder below). */
const relativePathSchema = z
  .string()
  .min(1, { error: 'path must not be empty' })
  .max(1024, { error: 'path is at most 1024 characters' })
  .refine((path) => !/^(?:[a-z][a-z0-9+.-]*:|[\\/~])/i.test(path), { error: "path is relative to the warehouse's root: no scheme, no leading / or ~" })
  .refine((path) => !path.split(/[\\/]/).includes('..'), { error: "path may not leave the warehouse's root (..)" })
  // eslint-disable-next-line no-control-regex -- control characters are what this refuses
  .refine((path) => !/[\u0000-\u001f'\\]/.test(path), { error: 'path may not hold control characters, quotes or backslashes' });

const csvOptionsSchema = strictObjectWithHints({
  delimiter: z.string().length(1, { error: 'delimiter is one character' }).optional(),
  header: z.boolean().optional(),
  quote: z.string().length(1, { error: 'quote is one character' }).optional(),
  encoding: z.enum(['utf-8', 'utf-16', 'latin-1'], { error: "encoding must be 'utf-8', 'utf-16' or 'latin-1'" }).optional(),
});

export const sourceSchema = z.discriminatedUnion(
  'kind',
  [
    strictObjectWithHints({
      kind: z.enum(['table', 'view']),
      warehouse: warehouseNameSchema.optional(),
      schema: identifierSchema.default('public'),
      name: identifierSchema,
    }),
    strictObjectWithHints({ kind: z.literal('query'), warehouse: warehouseNameSchema.optional(), sql: readOnlySqlSchema }),
    strictObjectWithHints({
      kind: z.literal('files'),
      warehouse: warehouseNameSchema.optional(),
      format: z.enum(['csv', 'parquet'], { error: "format must be 'csv' or 'parquet'" }),
      path: relativePathSchema,
      csv: csvOptionsSchema.optional(),
    }),
  ],
  { error: (issue) => (issue.code === 'invalid_union' ? "kind must be 'table', 'view', 'query' or 'files'" : undefined) },
);

/** Which source column feeds each invitation field. */
export const fieldMappingSchema = strictObjectWithHints({
  consumerName: columnNameSchema,
  consumerEmail: columnNameSchema,
  referenceNumber: columnNameSchema,
  replyTo: columnNameSchema.optional(),
  locale: columnNameSchema.optional(),
  senderName: columnNameSchema.optional(),
  senderEmail: columnNameSchema.optional(),
  locationId: columnNameSchema.optional(),
  serviceReviewTags: columnNameSchema.optional(),
  productSkus: columnNameSchema.optional(),
  servicePreferredSendTime: columnNameSchema.optional(),
  productPreferredSendTime: columnNameSchema.optional(),
});
export type FieldMapping = z.output<typeof fieldMappingSchema>;
export type MappedField = keyof FieldMapping;

const FULL_PRODUCTS_REFUSED = 'Full product objects are not supported: provide product SKUs only';
const productObjectHint = (key: string) => (/^products?$/i.test(key) ? FULL_PRODUCTS_REFUSED : undefined);

export const productSettingsSchema = z.discriminatedUnion(
  'mode',
  [
    strictObjectWithHints({ mode: z.literal('per_row') }, (key, allowedKeys) =>
      key === 'skus'
        ? "skus is only used with mode 'fixed'; with 'per_row' map the SKU column as mapping.productSkus"
        : (productObjectHint(key) ?? unknownKeyMessage(key, allowedKeys)),
    ),
    strictObjectWithHints(
      {
        mode: z.literal('fixed'),
        skus: z
          .array(skuSchema, {
            error: (issue) =>
              issue.input === undefined ? "mode 'fixed' needs skus: the product SKUs to invite for on every row" : 'skus must be a list of product SKUs',
          })
          .min(1, { error: 'skus must list at least one product SKU' })
          .max(SKUS_MAX_COUNT, { error: `skus lists at most ${SKUS_MAX_COUNT} product SKUs` })
          // Duplicates would only make Trustpilot ask twice about the same product.
          .transform((skus) => [...new Set(skus)]),
      },
      productObjectHint,
    ),
  ],
  {
    error: (issue) =>
      issue.code === 'invalid_union'
        ? "mode must be 'per_row' (SKU column mapped as mapping.productSkus) or 'fixed' (with skus)"
        : undefined,
  },
);
export type ProductSettings = z.output<typeof productSettingsSchema>;

export const scheduleSchema = strictObjectWithHints({
  every: durationSchema(DURATION.minute, DURATION.year).optional(),
  cron: cronSchema.optional(),
  paused: z.boolean().default(false),
  /** How far back Temporal still starts runs it missed (worker or server down). */
  catchupWindow: durationSchema(DURATION.tenSeconds, DURATION.week).default('10m'),
}).superRefine((schedule, context) => {
  if ((schedule.every === undefined) === (schedule.cron === undefined)) {
    context.addIssue({ code: 'custom', message: "set exactly one of 'every' (e.g. '5m') or 'cron' (e.g. '0 * * * *')" });
  }
});

export const cursorSchema = strictObjectWithHints({
  column: columnNameSchema,
  /** Re-reads this far behind the watermark so late-committed rows are still seen. */
  lookback: durationSchema(DURATION.zero, DURATION.year).default('1d'),
  /** A run whose last full scan is older than this reads the whole segment: rows later than the look-back are found within it. */
  fullScanEvery: durationSchema(DURATION.minute, DURATION.year).default('1d'),
});

/** Activation-level target: overrides the destination's business unit, type and defaults. */
export const activationTargetSchema = strictObjectWithHints({
  ...invitationSettingsShape,
  businessUnitId: z.string().trim().min(1, { error: 'businessUnitId must not be empty' }).max(BUSINESS_UNIT_ID_MAX_LENGTH).optional(),
  invitationType: invitationTypeSchema.optional(),
});

export const firstRunPolicySchema = z.enum(['send_all', 'baseline'], {
  error: "firstRunPolicy must be 'send_all' (invite every existing row) or 'baseline' (record existing rows, invite only later ones)",
});

export const activationConfigSchema = strictObjectWithHints({
  id: slugSchema,
  name: displayNameSchema.optional(),
  destinationId: slugSchema,
  source: sourceSchema,
  primaryKey: z
    .union([columnNameSchema, z.array(columnNameSchema).min(1, { error: 'primaryKey needs at least one column' })], {
      error: 'primaryKey must be a column name or a list of column names',
    })
    .transform((columns) => (Array.isArray(columns) ? columns : [columns])),
  cursor: cursorSchema.optional(),
  target: activationTargetSchema.default({}),
  products: productSettingsSchema.optional(),
  mapping: fieldMappingSchema,
  schedule: scheduleSchema,
  firstRunPolicy: firstRunPolicySchema.default('send_all'),
  maxRunsForFailedRows: z.int().min(1).max(100).default(5),
  concurrency: z.int().min(1).max(100).default(8),
  /** How long one read of the segment may take. */
  statementTimeout: durationSchema(DURATION.second, DURATION.sixHours).default('5m'),
  /** Runs failing for configuration reasons this many times in a row pause the schedule. */
  pauseAfterFailures: z.int().min(1).max(100).default(3),
  /** Overrides the destination's alerts. */
  alerts: alertsSchema.optional(),
  enabled: z.boolean().default(true),
}).superRefine((activation, context) => {
  for (const issue of activationRuleIssues(activation)) context.addIssue({ code: 'custom', ...issue });
});
export type ActivationConfig = z.output<typeof activationConfigSchema>;
export type ActivationConfigInput = z.input<typeof activationConfigSchema>;
