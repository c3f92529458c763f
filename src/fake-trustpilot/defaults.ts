/** Credentials and ids the fake accepts out of the box (dev mode and tests rely on them). */
import type { FakeApplication, FakeRateLimit } from './types.ts';

export const FAKE_DEFAULTS = {
  apiKey: 'dev-api-key',
  apiSecret: 'dev-api-secret',
  businessUserId: 'dev-business-user',
  username: 'dev-user@example.com',
  password: 'dev-password',
  businessUnitId: 'dev-business-unit',
} as const;

export const DEFAULT_APPLICATION: FakeApplication = {
  apiKey: FAKE_DEFAULTS.apiKey,
  apiSecret: FAKE_DEFAULTS.apiSecret,
  businessUserIds: [FAKE_DEFAULTS.businessUserId],
  users: [{ username: FAKE_DEFAULTS.username, password: FAKE_DEFAULTS.password }],
};

/** Trustpilot's `expires_in`: 359999 s, just under 100 hours. */
export const DEFAULT_TOKEN_LIFETIME_SECONDS = 359_999;

/** Trustpilot's published allowance: 833 calls per 5 minutes per application. */
export const DEFAULT_RATE_LIMIT: FakeRateLimit = { limit: 833, windowSeconds: 300 };

/** Undocumented at Trustpilot; low enough that a client minting per call is caught quickly. */
export const DEFAULT_TOKEN_MINT_LIMIT_PER_MINUTE = 10;
