import { readFileSync } from 'node:fs';
import type { DestinationConfig } from '../domain/index.ts';
import type { TrustpilotCredentials } from '../trustpilot/types.ts';
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
  const read = (name: string): string => {
    const value = readSecret(name, env);
    if (!value) missing.push(name);
    return value ?? '';
  };
  let credentials: TrustpilotCredentials;
  if (ref.grant === 'client_credentials') {
    credentials = {
      grant: 'client_credentials',
      apiKey: read(ref.apiKeyEnv),
      apiSecret: read(ref.apiSecretEnv),
      businessUserId: read(ref.businessUserIdEnv),
    };
  } else {
    const businessUserId = ref.businessUserIdEnv ? readSecret(ref.businessUserIdEnv, env) : undefined;
    credentials = {
      grant: 'password',
      apiKey: read(ref.apiKeyEnv),
      apiSecret: read(ref.apiSecretEnv),
      username: read(ref.usernameEnv),
      password: read(ref.passwordEnv),
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
