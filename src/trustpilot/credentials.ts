import { readFileSync } from 'node:fs';
import type { DestinationConfig } from '../domain/index.ts';
import type { TrustpilotCredentials } from './types.ts';
import { secretEnvNameProblem, type SecretRole } from '../domain/config-env-names.ts';
import { PublicError } from '../domain/public-error.ts';


/** A destination's credentials cannot be read from this process's environment. */
export class CredentialsError extends PublicError {
  override readonly name = 'CredentialsError';
}

/**
 * A credential from the environment: the variable itself, or, when only `<NAME>_FILE` is set,
 * the content of the file it names (how Docker and Kubernetes secrets are usually mounted).
 */
export function readSecret(name: string, env: NodeJS.ProcessEnv): string | undefined {
  const direct = env[name]?.trim();
  if (direct) return direct;
  const file = env[`${name}_FILE`]?.trim();
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new CredentialsError(`${name}_FILE names a file that cannot be read (${code})`);
  }
}

/** Reads the credential values that a destination names by environment variable. */
export function resolveCredentials(destination: DestinationConfig, env: NodeJS.ProcessEnv): TrustpilotCredentials {
  const ref = destination.credentials;
  const missing: string[] = [];
  // The schema refuses such names; this also covers a destination built without it.
  const checked = (name: string, role: SecretRole): string => {
    const problem = secretEnvNameProblem(name, role);
    if (problem !== undefined) throw new CredentialsError(`Destination '${destination.id}' names a credential variable it may not read: ${problem}`);
    return name;
  };
  const read = (name: string, role: SecretRole): string => {
    const value = readSecret(checked(name, role), env);
    if (!value) missing.push(name);
    return value ?? '';
  };
  let credentials: TrustpilotCredentials;
  if (ref.grant === 'client_credentials') {
    credentials = {
      grant: 'client_credentials',
      apiKey: read(ref.apiKeyEnv, 'apiKey'),
      apiSecret: read(ref.apiSecretEnv, 'apiSecret'),
      businessUserId: read(ref.businessUserIdEnv, 'businessUserId'),
    };
  } else {
    const businessUserId = ref.businessUserIdEnv ? readSecret(checked(ref.businessUserIdEnv, 'businessUserId'), env) : undefined;
    credentials = {
      grant: 'password',
      apiKey: read(ref.apiKeyEnv, 'apiKey'),
      apiSecret: read(ref.apiSecretEnv, 'apiSecret'),
      username: read(ref.usernameEnv, 'username'),
      password: read(ref.passwordEnv, 'password'),
      ...(businessUserId ? { businessUserId } : {}),
    };
  }
  if (missing.length > 0) {
    throw new CredentialsError(
      `Destination '${destination.id}' reads its credentials from environment variables that are not set here: ${missing.join(', ')} (set each, or <NAME>_FILE to a file holding it)`,
    );
  }
  return credentials;
}
