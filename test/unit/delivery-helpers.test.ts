import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveCredentials } from '../../src/activities/credentials.ts';
import { destinationConfigSchema } from '../../src/domain/index.ts';
import { ApplicationFailure } from '@temporalio/common';
import { slotIntervalMs } from '../../src/activities/pacing.ts';
import { redactedFailure } from '../../src/activities/redact-failures.ts';
import { backoffDelayMs, mayHaveBeenAccepted } from '../../src/activities/send.ts';
import { fingerprintOf, laterCursorValue, rowKeyOf } from '../../src/source/row-key.ts';
import { TrustpilotError } from '../../src/trustpilot/index.ts';

describe('pacing', () => {
  it("spaces calls to stay within Trustpilot's 833 per 5 minutes with 2% headroom", () => {
    const interval = slotIntervalMs({ calls: 833, perSeconds: 300 });
    expect(Math.floor(300_000 / interval)).toBe(816);
    expect(300_000 / interval).toBeGreaterThan(833 * 0.97);
  });
  it('keeps at least 250 ms of headroom in short windows', () => {
    expect(slotIntervalMs({ calls: 40, perSeconds: 4 })).toBe(106.25);
  });
});

describe('retry backoff', () => {
  it('grows exponentially, is jittered between half and all of its ceiling, and is capped', () => {
    expect(backoffDelayMs(1, () => 0)).toBe(1_000);
    expect(backoffDelayMs(1, () => 1)).toBe(2_000);
    expect(backoffDelayMs(3, () => 0.5)).toBe(6_000);
    expect(backoffDelayMs(30, () => 1)).toBe(60_000);
  });
});

describe('which failures may have created the invitation anyway', () => {
  const error = (init: ConstructorParameters<typeof TrustpilotError>[1]) => new TrustpilotError('x', init);
  it.each([
    ['a dropped connection after sending', error({ kind: 'retryable', errorCode: 'ECONNRESET' }), true],
    ['a timeout', error({ kind: 'retryable', errorCode: 'TIMEOUT' }), true],
    ['a gateway 520', error({ kind: 'retryable', status: 520 }), true],
    ['a 429', error({ kind: 'retryable', status: 429 }), false],
    ['a refused connection', error({ kind: 'retryable', errorCode: 'ECONNREFUSED' }), false],
  ])('%s → %s', (_name, failure, expected) => {
    expect(mayHaveBeenAccepted(failure)).toBe(expected);
  });
});

describe('row identity', () => {
  it('uses the value for a single key and a JSON array for a composite key', () => {
    expect(rowKeyOf({ id: 42, other: 'x' }, ['id'])).toBe('42');
    expect(rowKeyOf({ order: 'A-1', line: 2 }, ['order', 'line'])).toBe('["A-1","2"]');
    expect(rowKeyOf({ at: new Date('2026-01-02T03:04:05Z') }, ['at'])).toBe('2026-01-02T03:04:05.000Z');
  });
  it('fingerprints content regardless of key order, and changes with it', () => {
    const a = fingerprintOf({ consumerEmail: 'a@b.co', consumerName: 'A' });
    expect(fingerprintOf({ consumerName: 'A', consumerEmail: 'a@b.co' })).toBe(a);
    expect(fingerprintOf({ consumerName: 'A', consumerEmail: 'a@b.com' })).not.toBe(a);
  });
  it('moves the watermark only forward', () => {
    expect(laterCursorValue('2026-01-02T00:00:00.000Z', '2026-01-01T00:00:00.000Z')).toBe('2026-01-02T00:00:00.000Z');
    expect(laterCursorValue(null, '2026-01-01T00:00:00.000Z')).toBe('2026-01-01T00:00:00.000Z');
    expect(laterCursorValue(5, 7)).toBe(7);
  });
});

describe('activity failures on their way into history', () => {
  it('lose email addresses but keep type, retryability and retry delay', () => {
    const original = ApplicationFailure.create({ message: 'bad row jane@x.com', type: 'T', nonRetryable: true, nextRetryDelay: 1500 });
    const redacted = redactedFailure(original) as InstanceType<typeof ApplicationFailure>;
    expect(redacted.message).toBe('bad row [redacted]');
    expect(redacted).toMatchObject({ type: 'T', nonRetryable: true, nextRetryDelay: 1500 });
    const foreign = redactedFailure(new TypeError('Key (row_key)=(bob@y.org) already exists')) as InstanceType<typeof ApplicationFailure>;
    expect(foreign.message).toBe('Key (row_key)=([redacted]) already exists');
    expect(foreign).toMatchObject({ type: 'TypeError', nonRetryable: false });
  });
});

describe('credentials by reference', () => {
  it('reads a variable, or the file named by <NAME>_FILE, and names what is missing', () => {
    const destination = destinationConfigSchema.parse({ id: 'd', businessUnitId: 'bu', invitationType: 'service' });
    const file = join(mkdtempSync(join(tmpdir(), 'secret-')), 'secret');
    writeFileSync(file, 's3cret\n');
    expect(
      resolveCredentials(destination, { TRUSTPILOT_API_KEY: 'k', TRUSTPILOT_API_SECRET_FILE: file, TRUSTPILOT_BUSINESS_USER_ID: 'u' }),
    ).toEqual({ grant: 'client_credentials', apiKey: 'k', apiSecret: 's3cret', businessUserId: 'u' });
    expect(() => resolveCredentials(destination, { TRUSTPILOT_API_KEY: 'k' })).toThrow(
      /TRUSTPILOT_API_SECRET, TRUSTPILOT_BUSINESS_USER_ID/,
    );
    expect(() => resolveCredentials(destination, { TRUSTPILOT_API_KEY: 'k', TRUSTPILOT_API_SECRET_FILE: '/nonexistent', TRUSTPILOT_BUSINESS_USER_ID: 'u' })).toThrow(
      /TRUSTPILOT_API_SECRET_FILE names a file that cannot be read \(ENOENT\)/,
    );
  });
});
