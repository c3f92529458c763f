import { describe, expect, it } from 'vitest';
import { DEFAULT_FAKE_TRUSTPILOT_PORT, fakeTrustpilotOptionsFromEnv } from '../../src/fake-trustpilot/env-config.ts';
import { FixedWindowLimiter } from '../../src/fake-trustpilot/rate-limit.ts';
import { parsePreferredSendTime } from '../../src/fake-trustpilot/send-time.ts';

describe('fake Trustpilot: settings from the environment', () => {
  it('uses the defaults when nothing is set', () => {
    expect(fakeTrustpilotOptionsFromEnv({})).toEqual({
      port: DEFAULT_FAKE_TRUSTPILOT_PORT,
      host: '127.0.0.1',
      rateLimit: { limit: 833, windowSeconds: 300 },
      tokenMintLimitPerMinute: 10,
    });
    expect(DEFAULT_FAKE_TRUSTPILOT_PORT).toBe(8787);
  });

  it('reads every variable', () => {
    expect(
      fakeTrustpilotOptionsFromEnv({
        FAKE_TRUSTPILOT_PORT: '0',
        FAKE_TRUSTPILOT_HOST: '0.0.0.0',
        FAKE_TRUSTPILOT_RATE_LIMIT: '100/60',
        FAKE_TRUSTPILOT_TOKEN_LIFETIME_SECONDS: '30',
        FAKE_TRUSTPILOT_TOKEN_MINT_LIMIT: 'off',
        FAKE_TRUSTPILOT_BUSINESS_UNITS: 'bu-1, bu-2',
      }),
    ).toEqual({ port: 0, host: '0.0.0.0', rateLimit: { limit: 100, windowSeconds: 60 }, tokenLifetimeSeconds: 30, tokenMintLimitPerMinute: null, businessUnits: ['bu-1', 'bu-2'] });
    expect(fakeTrustpilotOptionsFromEnv({ FAKE_TRUSTPILOT_RATE_LIMIT: 'OFF' }).rateLimit).toBeNull();
  });

  it.each([
    ['FAKE_TRUSTPILOT_PORT', 'eighty'],
    ['FAKE_TRUSTPILOT_PORT', '70000'],
    ['FAKE_TRUSTPILOT_RATE_LIMIT', '833'],
    ['FAKE_TRUSTPILOT_RATE_LIMIT', '0/300'],
    ['FAKE_TRUSTPILOT_RATE_LIMIT', '833 per 300'],
    ['FAKE_TRUSTPILOT_TOKEN_LIFETIME_SECONDS', '0'],
    ['FAKE_TRUSTPILOT_TOKEN_LIFETIME_SECONDS', '1.5'],
    ['FAKE_TRUSTPILOT_TOKEN_MINT_LIMIT', 'lots'],
    ['FAKE_TRUSTPILOT_BUSINESS_UNITS', ' , '],
  ])('fails naming %s when it is %j', (name, value) => {
    expect(() => fakeTrustpilotOptionsFromEnv({ [name]: value })).toThrow(name);
  });
});

describe('fake Trustpilot: preferredSendTime parsing', () => {
  it.each([
    ['2013-09-07T13:37:00', Date.UTC(2013, 8, 7, 13, 37, 0)],
    ['2013-09-07T13:37:00Z', Date.UTC(2013, 8, 7, 13, 37, 0)],
    ['2013-09-07T13:37:00.250Z', Date.UTC(2013, 8, 7, 13, 37, 0, 250)],
    ['2013-09-07T13:37:00+00:00', Date.UTC(2013, 8, 7, 13, 37, 0)],
    ['09/07/2013 13:37:00', Date.UTC(2013, 8, 7, 13, 37, 0)],
    ['02/29/2024 00:00:00', Date.UTC(2024, 1, 29)],
  ])('reads %s as UTC', (text, epochMs) => {
    expect(parsePreferredSendTime(text)).toEqual({ ok: true, epochMs });
  });

  it.each(['2013-09-07', '2013-09-07 13:37:00', '13:37', '2013-13-01T00:00:00', '02/29/2023 00:00:00', '09/07/2013 24:00:00', '2013-09-07T13:37:00-05:00', ''])(
    'refuses %j',
    (text) => {
      expect(parsePreferredSendTime(text).ok).toBe(false);
    },
  );
});

describe('fake Trustpilot: fixed-window limiter', () => {
  it('allows `limit` calls per key per window and says how long to wait', () => {
    let now = 1_000_000;
    const limiter = new FixedWindowLimiter(2, 10, () => now);
    expect(limiter.take('a')).toEqual({ allowed: true });
    expect(limiter.take('a')).toEqual({ allowed: true });
    expect(limiter.take('b')).toEqual({ allowed: true });
    now += 2_500;
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterSeconds: 8 });
    now += 7_500;
    expect(limiter.take('a')).toEqual({ allowed: true });
    limiter.take('a');
    expect(limiter.take('a').allowed).toBe(false);
    limiter.reset();
    expect(limiter.take('a').allowed).toBe(true);
  });
});
