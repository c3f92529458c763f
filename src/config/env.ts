import type { LevelWithSilent } from 'pino';
import { z } from 'zod';
import type { APP_VARIABLES, CREDENTIAL_VARIABLES as CREDENTIAL_VARIABLE_ROLES } from '../domain/config-env-names.ts';
import { PublicError } from '../domain/public-error.ts';

const optionalString = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

// An empty variable (e.g. `FOO=` in a compose file) means "not set".
const unsetIfEmpty = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);

const postgresUrl = z.preprocess(
  unsetIfEmpty,
  z
    .string()
    .trim()
    .refine((value) => /^postgres(ql)?:\/\//.test(value), 'must be a postgres:// or postgresql:// URL')
    .optional(),
);

const httpUrl = (fallback: string) =>
  z.preprocess(unsetIfEmpty, z
    .string()
    .trim()
    .default(fallback)
    .refine((value) => {
      try {
        const url = new URL(value);
        return url.protocol === 'http:' || url.protocol === 'https:';
      } catch {
        return false;
      }
    }, 'must be an http(s) URL')
    .transform((value) => value.replace(/\/+$/, '')));

const hostPort = z.preprocess(
  unsetIfEmpty,
  z
    .string()
    .trim()
    .regex(/^[^\s:/]+:\d{1,5}$/, 'must be host:port, e.g. localhost:7233')
    .optional(),
);

/** pino's levels: the logger is created with whichever of them LOG_LEVEL names. */
const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const satisfies readonly LevelWithSilent[];
const DEFAULT_LOG_LEVEL = 'info';

const logLevel = z.preprocess(
  (value) => (typeof unsetIfEmpty(value) === 'string' ? String(value).trim().toLowerCase() : undefined),
  z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default(DEFAULT_LOG_LEVEL),
);

const temporalLogLevel = z.preprocess(
  (value) => (typeof unsetIfEmpty(value) === 'string' ? String(value).trim().toUpperCase() : undefined),
  z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'], { error: 'must be one of TRACE, DEBUG, INFO, WARN, ERROR' }).optional(),
);

/** `host:port` to serve Prometheus metrics on, or `off`. */
const metricsAddress = z.preprocess(
  unsetIfEmpty,
  z
    .string()
    .trim()
    .regex(/^(off|[^\s:/]+:\d{1,5}|\[[0-9a-fA-F:]+\]:\d{1,5})$/, "must be host:port (e.g. 0.0.0.0:9464) or 'off'")
    .default('127.0.0.1:9464')
    .transform((value) => (value === 'off' ? undefined : value)),
);

const wholeNumber = (min: number, max: number, fallback: number) =>
  z.preprocess(
    unsetIfEmpty,
    z.coerce
      .number()
      .int({ error: `must be a whole number from ${min} to ${max}` })
      .min(min, { error: `must be a whole number from ${min} to ${max}` })
      .max(max, { error: `must be a whole number from ${min} to ${max}` })
      .default(fallback),
  );

/** A Postgres size setting: a number of kilobytes, or with its unit (`512MB`, `4GB`); `-1` for no limit. */
const postgresSize = z.preprocess(
  unsetIfEmpty,
  z
    .string()
    .trim()
    .regex(/^(-1|\d{1,12}\s*(kB|MB|GB|TB)?)$/, "must be a size such as 512MB or 4GB (or -1 for none)")
    .default('4GB'),
);

const envSchema = z.object({
  DATABASE_URL: postgresUrl,
  WAREHOUSE_DATABASE_URL: postgresUrl,
  TEMPORAL_ADDRESS: hostPort,
  TEMPORAL_NAMESPACE: z.preprocess(unsetIfEmpty, z.string().trim().default('default')),
  TEMPORAL_TASK_QUEUE: z.preprocess(unsetIfEmpty, z.string().trim().default('trustpilot-invitations')),
  TEMPORAL_CLI_PATH: optionalString,
  TRUSTPILOT_API_URL: httpUrl('https://api.trustpilot.com'),
  TRUSTPILOT_INVITATIONS_API_URL: httpUrl('https://invitations-api.trustpilot.com'),
  TRUSTPILOT_API_KEY: optionalString,
  TRUSTPILOT_API_SECRET: optionalString,
  TRUSTPILOT_BUSINESS_USER_ID: optionalString,
  TRUSTPILOT_USERNAME: optionalString,
  TRUSTPILOT_PASSWORD: optionalString,
  /** connections to the app database per process; sends in flight each need one for a moment */
  DATABASE_POOL_SIZE: z.preprocess(unsetIfEmpty, z.coerce.number().int().min(2, { error: 'must be a whole number from 2 to 500' }).max(500, { error: 'must be a whole number from 2 to 500' }).default(40)),
  LOG_LEVEL: logLevel,
  TEMPORAL_LOG_LEVEL: temporalLogLevel,
  METRICS_BIND_ADDRESS: metricsAddress,
  /** rows one scan of a segment may read; a segment with more fails its run, saying so */
  SCAN_MAX_ROWS: wholeNumber(1_000, 2_000_000_000, 25_000_000),
  /** bytes of keys one scan may hold in the app database's session tables */
  SCAN_MAX_BYTES: wholeNumber(1_000_000, Number.MAX_SAFE_INTEGER, 4 * 1024 ** 3),
  /** temp_file_limit of a scan's session in the app database (applied when the app's role may set it) */
  SCAN_TEMP_FILE_LIMIT: postgresSize,
});

export type AppEnv = z.output<typeof envSchema>;

/**
 * Every variable of the environment schema must be known to the rules on credential variable
 * names, or a destination could name it (DATABASE_URL as an API key sends the database URL to
 * Trustpilot). A variable added here without being listed in domain/config-env-names.ts fails to
 * compile, naming it.
 */
const _everyAppVariableIsReserved: Record<Exclude<keyof AppEnv, keyof typeof APP_VARIABLES | keyof typeof CREDENTIAL_VARIABLE_ROLES>, never> = {};

export class EnvError extends PublicError {
  override readonly name = 'EnvError';
}

/** Reads and validates the process environment; every problem names its variable. */
export function readEnv(source: NodeJS.ProcessEnv = process.env): AppEnv {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new EnvError(`Invalid environment:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

/**
 * LOG_LEVEL as readEnv reads it, for the logger, which is created when its module loads: before
 * any entry point has called readEnv. An invalid value gives the default here, and readEnv, which
 * every entry point calls first, refuses it along with whatever else is wrong, naming the variable.
 */
export function logLevelFrom(source: NodeJS.ProcessEnv = process.env): AppEnv['LOG_LEVEL'] {
  const parsed = logLevel.safeParse(source['LOG_LEVEL']);
  return parsed.success ? parsed.data : DEFAULT_LOG_LEVEL;
}

const CREDENTIAL_VARIABLES = [
  'TRUSTPILOT_API_KEY',
  'TRUSTPILOT_API_SECRET',
  'TRUSTPILOT_BUSINESS_USER_ID',
  'TRUSTPILOT_USERNAME',
  'TRUSTPILOT_PASSWORD',
] as const;

/**
 * The Trustpilot credential variables set in any form (the value, or `<NAME>_FILE`). When any is,
 * the environment is about real Trustpilot, and no fake may stand in for it.
 */
export function trustpilotCredentialVariables(source: NodeJS.ProcessEnv = process.env): string[] {
  return CREDENTIAL_VARIABLES.flatMap((name) => [name, `${name}_FILE`]).filter((name) => (source[name] ?? '').trim() !== '');
}
