/**
 * `npm run fake-trustpilot`: runs the fake until SIGINT/SIGTERM.
 * Settings come from the environment (see env-config.ts):
 *   FAKE_TRUSTPILOT_PORT (default 8787), FAKE_TRUSTPILOT_HOST (default 127.0.0.1),
 *   FAKE_TRUSTPILOT_RATE_LIMIT (e.g. 833/300, or off), FAKE_TRUSTPILOT_TOKEN_LIFETIME_SECONDS,
 *   FAKE_TRUSTPILOT_TOKEN_MINT_LIMIT (per minute, or off), FAKE_TRUSTPILOT_BUSINESS_UNITS (comma-separated).
 */
import { InvalidEnvironmentError, fakeTrustpilotOptionsFromEnv } from './env-config.ts';
import { FAKE_DEFAULTS, startFakeTrustpilot } from './server.ts';

function waitForShutdownSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}

async function main(): Promise<void> {
  const options = fakeTrustpilotOptionsFromEnv(process.env);
  const fake = await startFakeTrustpilot(options);
  try {
    const rateLimit = options.rateLimit ? `${options.rateLimit.limit}/${options.rateLimit.windowSeconds}s` : 'off';
    console.log(`fake Trustpilot listening on ${fake.url} (api + invitations host; rate limit ${rateLimit})`);
    console.log(`admin: ${fake.url}/admin`);
    console.log(`defaults: apiKey=${FAKE_DEFAULTS.apiKey} businessUnitId=${FAKE_DEFAULTS.businessUnitId} businessUserId=${FAKE_DEFAULTS.businessUserId}`);
    const signal = await waitForShutdownSignal();
    console.log(`fake Trustpilot: ${signal} received, closing`);
  } finally {
    await fake.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof InvalidEnvironmentError ? `fake-trustpilot: ${error.message}` : error);
  process.exitCode = 1;
});
