/**
 * Reads the fake's settings from the environment, failing loudly (naming the variable) on
 * anything it cannot use: a silently ignored typo in a rate limit would make a benchmark
 * or a dev session measure the wrong thing.
 */
import { DEFAULT_RATE_LIMIT, DEFAULT_TOKEN_MINT_LIMIT_PER_MINUTE } from './defaults.ts';
import type { FakeRateLimit, FakeTrustpilotOptions } from './types.ts';

export const DEFAULT_FAKE_TRUSTPILOT_PORT = 8787;

export class InvalidEnvironmentError extends Error {}

type Env = Readonly<Record<string, string | undefined>>;

export function fakeTrustpilotOptionsFromEnv(env: Env): FakeTrustpilotOptions & { port: number; host: string } {
  const options: FakeTrustpilotOptions & { port: number; host: string } = {
    port: readPort(env, 'FAKE_TRUSTPILOT_PORT'),
    host: readNonEmpty(env, 'FAKE_TRUSTPILOT_HOST') ?? '127.0.0.1',
    rateLimit: readRateLimit(env, 'FAKE_TRUSTPILOT_RATE_LIMIT'),
    tokenMintLimitPerMinute: readCountOrOff(env, 'FAKE_TRUSTPILOT_TOKEN_MINT_LIMIT', DEFAULT_TOKEN_MINT_LIMIT_PER_MINUTE),
  };
  const lifetime = readNonEmpty(env, 'FAKE_TRUSTPILOT_TOKEN_LIFETIME_SECONDS');
  if (lifetime !== undefined) options.tokenLifetimeSeconds = parsePositiveInteger(lifetime, 'FAKE_TRUSTPILOT_TOKEN_LIFETIME_SECONDS');
  const businessUnits = readNonEmpty(env, 'FAKE_TRUSTPILOT_BUSINESS_UNITS');
  if (businessUnits !== undefined) {
    const ids = businessUnits.split(',').map((id) => id.trim()).filter((id) => id !== '');
    if (ids.length === 0) throw new InvalidEnvironmentError('FAKE_TRUSTPILOT_BUSINESS_UNITS must list business unit ids separated by commas');
    options.businessUnits = ids;
  }
  return options;
}

function readNonEmpty(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function parsePositiveInteger(value: string, name: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidEnvironmentError(`${name} must be a positive integer, got '${value}'`);
  return Number(value);
}

function readPort(env: Env, name: string): number {
  const value = readNonEmpty(env, name);
  if (value === undefined) return DEFAULT_FAKE_TRUSTPILOT_PORT;
  if (!/^\d+$/.test(value) || Number(value) > 65_535) throw new InvalidEnvironmentError(`${name} must be a port number 0-65535, got '${value}'`);
  return Number(value);
}

/** `833/300` = 833 calls per 300 s; `off` disables the limit. */
function readRateLimit(env: Env, name: string): FakeRateLimit | null {
  const value = readNonEmpty(env, name);
  if (value === undefined) return DEFAULT_RATE_LIMIT;
  if (value.toLowerCase() === 'off') return null;
  const match = /^(\d+)\/(\d+)$/.exec(value);
  if (match === null || Number(match[1]) < 1 || Number(match[2]) < 1) {
    throw new InvalidEnvironmentError(`${name} must be LIMIT/WINDOW_SECONDS (e.g. 833/300) or 'off', got '${value}'`);
  }
  return { limit: Number(match[1]), windowSeconds: Number(match[2]) };
}

function readCountOrOff(env: Env, name: string, fallback: number): number | null {
  const value = readNonEmpty(env, name);
  if (value === undefined) return fallback;
  if (value.toLowerCase() === 'off') return null;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidEnvironmentError(`${name} must be a positive integer or 'off', got '${value}'`);
  return Number(value);
}
