import { z } from 'zod';

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
});

export type AppEnv = z.output<typeof envSchema>;

export class EnvError extends Error {
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

/** True when the environment names Trustpilot credentials, so no fake server should stand in. */
export function hasTrustpilotCredentials(env: AppEnv): boolean {
  return env.TRUSTPILOT_API_KEY !== undefined || env.TRUSTPILOT_API_SECRET !== undefined;
}
