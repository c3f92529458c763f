/**
 * Everything the fake remembers, in one object the route handlers share. Built from the
 * options once; the mutators below back both the programmatic API and the admin routes,
 * so both validate the same way.
 */
import {
  DEFAULT_APPLICATION,
  DEFAULT_RATE_LIMIT,
  DEFAULT_TOKEN_LIFETIME_SECONDS,
  DEFAULT_TOKEN_MINT_LIMIT_PER_MINUTE,
  FAKE_DEFAULTS,
} from './defaults.ts';
import { FaultPlan, parseFaults } from './faults.ts';
import { isPlainObject } from './http-io.ts';
import { InvitationStore } from './invitation-store.ts';
import { FixedWindowLimiter, assertValidLimit } from './rate-limit.ts';
import { StatsRecorder } from './stats.ts';
import { TokenStore } from './tokens.ts';
import type { FakeApplication, FakeRateLimit, FakeTrustpilotOptions } from './types.ts';

export interface FakeState {
  readonly applications: ReadonlyMap<string, FakeApplication>;
  readonly businessUnits: ReadonlySet<string>;
  /** null = any SKU is accepted */
  readonly productCatalogue: ReadonlySet<string> | null;
  readonly tokens: TokenStore;
  readonly invitations: InvitationStore;
  readonly stats: StatsRecorder;
  readonly mintLimiter: FixedWindowLimiter | null;
  /** null = invitations-host rate limit off */
  rateLimiter: FixedWindowLimiter | null;
  faultPlan: FaultPlan;
  /** pending latency timers, cancelled on close */
  readonly timers: Set<NodeJS.Timeout>;
}

export class InvalidRateLimitError extends Error {}

export function createState(options: FakeTrustpilotOptions): FakeState {
  const applications = options.applications ?? [DEFAULT_APPLICATION];
  if (applications.length === 0) throw new RangeError('applications must not be empty');
  const tokenLifetimeSeconds = options.tokenLifetimeSeconds ?? DEFAULT_TOKEN_LIFETIME_SECONDS;
  // Whole seconds: expires_in is sent as an integer string, as Trustpilot does.
  if (!Number.isInteger(tokenLifetimeSeconds) || tokenLifetimeSeconds < 1) throw new RangeError('tokenLifetimeSeconds must be a positive integer');
  const mintLimit = options.tokenMintLimitPerMinute === undefined ? DEFAULT_TOKEN_MINT_LIMIT_PER_MINUTE : options.tokenMintLimitPerMinute;
  if (mintLimit !== null) assertValidLimit(mintLimit, 60, 'tokenMintLimitPerMinute');
  const rateLimit = options.rateLimit === undefined ? DEFAULT_RATE_LIMIT : parseRateLimit(options.rateLimit);

  return {
    applications: new Map(applications.map((application) => [application.apiKey, application])),
    businessUnits: new Set(options.businessUnits ?? [FAKE_DEFAULTS.businessUnitId]),
    productCatalogue: isAbsentCatalogue(options.productCatalogue) ? null : new Set(options.productCatalogue),
    tokens: new TokenStore(tokenLifetimeSeconds),
    invitations: new InvitationStore(),
    stats: new StatsRecorder(),
    mintLimiter: mintLimit === null ? null : new FixedWindowLimiter(mintLimit, 60),
    rateLimiter: rateLimit === null ? null : new FixedWindowLimiter(rateLimit.limit, rateLimit.windowSeconds),
    faultPlan: new FaultPlan(options.faults === undefined ? {} : parseFaults(options.faults)),
    timers: new Set(),
  };
}

function isAbsentCatalogue(catalogue: string[] | null | undefined): catalogue is null | undefined {
  return catalogue === null || catalogue === undefined;
}

/** Checks an untrusted rate-limit value: `{ limit, windowSeconds }` or null (off). */
export function parseRateLimit(input: unknown): FakeRateLimit | null {
  if (input === null) return null;
  if (!isPlainObject(input)) throw new InvalidRateLimitError('rate limit must be { limit, windowSeconds } or null');
  const { limit, windowSeconds } = input;
  if (typeof limit !== 'number' || typeof windowSeconds !== 'number') throw new InvalidRateLimitError('limit and windowSeconds must be numbers');
  try {
    assertValidLimit(limit, windowSeconds, 'rate limit');
  } catch (error) {
    throw new InvalidRateLimitError((error as Error).message);
  }
  return { limit, windowSeconds };
}

export function replaceFaults(state: FakeState, faults: unknown): void {
  state.faultPlan = new FaultPlan(parseFaults(faults));
}

/** A new limit starts with empty windows: calls counted under the old limit are forgotten. */
export function replaceRateLimit(state: FakeState, rateLimit: unknown): void {
  const parsed = parseRateLimit(rateLimit);
  state.rateLimiter = parsed === null ? null : new FixedWindowLimiter(parsed.limit, parsed.windowSeconds);
}

export function clearState(state: FakeState): void {
  state.invitations.clear();
  state.stats.reset();
  state.rateLimiter?.reset();
  state.mintLimiter?.reset();
}
