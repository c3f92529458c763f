import type { DestinationConfig } from '../domain/index.ts';
import type { TrustpilotCredentials } from '../trustpilot/index.ts';
import { misconfigured } from './failures.ts';

/** Reads the credential values that a destination names by environment variable. */
export function resolveCredentials(destination: DestinationConfig, env: NodeJS.ProcessEnv): TrustpilotCredentials {
  const ref = destination.credentials;
  const missing: string[] = [];
  const read = (name: string): string => {
    const value = env[name]?.trim();
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
    const businessUserId = ref.businessUserIdEnv ? env[ref.businessUserIdEnv]?.trim() : undefined;
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
    throw misconfigured(
      `Destination '${destination.id}' names credentials in environment variables that the worker does not have: ${missing.join(', ')}`,
    );
  }
  return credentials;
}
