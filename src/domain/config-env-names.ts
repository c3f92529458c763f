/*
 * Which environment variables a destination may name for its credentials and an alert for its
 * webhook URL. The worker reads whatever variable is named and sends its value to Trustpilot
 * (as Basic auth, a form field or a header) or posts to it, so a name must not reach a variable
 * that holds something else: the app's own settings (a database URL with its password), libpq's,
 * the system's or the runtime's. Plain structural code, free of zod, like config-rules.ts.
 */

/** What a named variable is for; the messages say what it should hold instead. */
export type SecretRole = 'apiKey' | 'apiSecret' | 'businessUserId' | 'username' | 'password' | 'webhookUrl';

const ROLE_CONTENT: Record<SecretRole, string> = {
  apiKey: 'the API key',
  apiSecret: 'the API secret',
  businessUserId: 'the business user id',
  username: 'the Trustpilot username',
  password: 'the Trustpilot password',
  webhookUrl: 'the webhook URL',
};

/** Long enough for any real name; a longer "name" is a value pasted in by mistake. */
export const ENV_NAME_MAX_LENGTH = 100;
const ENV_NAME_SHAPE = /^[A-Z_][A-Z0-9_]*$/;

/**
 * The variables the app reads for credentials, by the role each one is for. A destination may
 * name them, but only for that role: the password variable as an API key would send the password
 * under another name.
 */
export const CREDENTIAL_VARIABLES = {
  TRUSTPILOT_API_KEY: 'apiKey',
  TRUSTPILOT_API_SECRET: 'apiSecret',
  TRUSTPILOT_BUSINESS_USER_ID: 'businessUserId',
  TRUSTPILOT_USERNAME: 'username',
  TRUSTPILOT_PASSWORD: 'password',
} as const satisfies Record<string, SecretRole>;

/**
 * Every other variable the app reads, with what it holds. `src/config/credentials.ts` checks at
 * compile time that each variable of the environment schema (src/config/env.ts) is either here
 * or in CREDENTIAL_VARIABLES, so a variable added there cannot be named as a credential.
 */
export const APP_VARIABLES = {
  DATABASE_URL: "holds the app database's URL",
  WAREHOUSE_DATABASE_URL: "holds the warehouse reader's database URL",
  DATABASE_POOL_SIZE: "sets the app database's pool size",
  TEMPORAL_ADDRESS: 'sets the Temporal server address',
  TEMPORAL_NAMESPACE: 'sets the Temporal namespace',
  TEMPORAL_TASK_QUEUE: 'sets the Temporal task queue',
  TEMPORAL_CLI_PATH: 'sets the Temporal CLI path',
  TEMPORAL_LOG_LEVEL: "sets the Temporal SDK's log level",
  TRUSTPILOT_API_URL: "holds Trustpilot's OAuth host",
  TRUSTPILOT_INVITATIONS_API_URL: "holds Trustpilot's invitations host",
  LOG_LEVEL: "sets the app's log level",
  METRICS_BIND_ADDRESS: 'sets the metrics endpoint address',
  SCAN_MAX_ROWS: 'sets a limit of segment scans',
  SCAN_MAX_BYTES: 'sets a limit of segment scans',
  SCAN_TEMP_FILE_LIMIT: 'sets a limit of segment scans',
  TRUSTPILOT_DEV_DATA_DIR: 'sets where npm start keeps its data',
  DEMO_BUSINESS_UNIT_ID: "sets the demo activation's business unit",
} as const satisfies Record<string, string>;

/** Whole families of variables that configure something else, by prefix. */
const RESERVED_PREFIXES: readonly [prefix: string, purpose: string][] = [
  ['WAREHOUSE_', 'configures the warehouse connection'],
  ['TEMPORAL_', 'configures the Temporal connection'],
  ['FAKE_TRUSTPILOT_', 'configures the fake Trustpilot server'],
  // libpq reads every PG* variable: PGPASSWORD, PGSERVICEFILE, PGSSLKEY…
  ['PG', "is one of libpq's connection settings (PGPASSWORD is a database password)"],
  ['NODE_', 'configures the Node.js runtime'],
  ['NPM_', 'configures npm'],
  ['LC_', 'sets the locale of the process'],
  ['XDG_', 'is a desktop session setting'],
  ['SSH_', 'belongs to SSH'],
  ['AWS_', "holds another service's credentials or settings (AWS)"],
  ['AZURE_', "holds another service's credentials or settings (Azure)"],
  ['GOOGLE_', "holds another service's credentials or settings (Google)"],
  ['GCP_', "holds another service's credentials or settings (Google Cloud)"],
  ['GITHUB_', "holds another service's credentials or settings (GitHub)"],
  ['DOCKER_', 'configures Docker'],
  ['KUBERNETES_', 'is set by Kubernetes'],
];

/** Variables of the system, the shell and the runtime: none is a secret meant for Trustpilot. */
const PROCESS_VARIABLES = new Set([
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'PWD',
  'OLDPWD',
  'HOSTNAME',
  'TERM',
  'TZ',
  'LANG',
  'LANGUAGE',
  'TMPDIR',
  'TMP',
  'TEMP',
  'MAIL',
  'EDITOR',
  'PAGER',
  'DISPLAY',
  'CI',
  'DEBUG',
  'NO_COLOR',
  'FORCE_COLOR',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'ALL_PROXY',
  'UV_THREADPOOL_SIZE',
  'MALLOC_ARENA_MAX',
  'SSL_CERT_DIR',
]);

/** A name any of whose `_` parts is one of these names a database's setting (POSTGRES_PASSWORD, REDIS_URL). */
const DATABASE_WORDS = new Set(['DATABASE', 'DB', 'POSTGRES', 'POSTGRESQL', 'PG', 'MYSQL', 'MARIADB', 'REDIS', 'MONGO', 'MONGODB']);

const shapeMessage = 'must be the NAME of an environment variable (A-Z, 0-9, _), e.g. TRUSTPILOT_API_KEY, not its value';

function credentialPurpose(name: string): string | undefined {
  const role = (CREDENTIAL_VARIABLES as Record<string, SecretRole | undefined>)[name];
  return role === undefined ? undefined : `holds ${ROLE_CONTENT[role]}`;
}

/**
 * Why `name` may not hold the secret of `role`, or undefined when it may. The message names the
 * variable (never a value: the name has passed the shape check first) and says what it holds.
 */
export function secretEnvNameProblem(name: string, role: SecretRole): string | undefined {
  if (!ENV_NAME_SHAPE.test(name)) return shapeMessage;
  if (name.length > ENV_NAME_MAX_LENGTH) return `must be at most ${ENV_NAME_MAX_LENGTH} characters: ${shapeMessage}`;
  const only = `name a variable that holds only ${ROLE_CONTENT[role]}`;
  if (name.endsWith('_FILE')) {
    return `${name} ends in _FILE, which the reader adds itself: name ${name.slice(0, -'_FILE'.length) || 'the variable'} and set ${name} to the path of a file holding ${ROLE_CONTENT[role]}`;
  }
  const credentialRole = (CREDENTIAL_VARIABLES as Record<string, SecretRole | undefined>)[name];
  if (credentialRole === role) return undefined;
  const purpose =
    credentialPurpose(name) ??
    (APP_VARIABLES as Record<string, string | undefined>)[name] ??
    RESERVED_PREFIXES.find(([prefix]) => name.startsWith(prefix))?.[1] ??
    (PROCESS_VARIABLES.has(name) ? 'is set by the system or the runtime for its own use' : undefined) ??
    (name.endsWith('DATABASE_URL') ? 'holds a database URL' : undefined) ??
    (name.split('_').some((part) => DATABASE_WORDS.has(part)) ? "names a database's setting" : undefined);
  if (purpose !== undefined) return `${name} ${purpose}; ${only}`;
  if (role === 'webhookUrl') {
    return name.endsWith('_DSN') ? `${name} ends in _DSN, the usual name of a database or service connection string; ${only}` : undefined;
  }
  const suffix = ['_URL', '_URI', '_DSN'].find((ending) => name.endsWith(ending));
  if (suffix !== undefined) return `${name} ends in ${suffix}, as variables holding addresses (often with a password, like database URLs) do; ${only}`;
  return undefined;
}
