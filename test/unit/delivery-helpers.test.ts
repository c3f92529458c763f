import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ApplicationFailure } from '@temporalio/common';
import { redactedFailure } from '../../src/activities/redact-failures.ts';
import { resolveCredentials } from '../../src/trustpilot/credentials.ts';
import { slotIntervalMs } from '../../src/db/pacing.ts';
import { destinationConfigSchema } from '../../src/domain/index.ts';
import { SourceError } from '../../src/source/errors.ts';
import { looksDown, mayHaveBeenAccepted, TrustpilotError } from '../../src/trustpilot/index.ts';
import { BOOKKEEPING_RETRY, backoffCeilingMs, RECORD_SENT_RETRY, SEND_RETRY, sendBackoffMs, type RetrySchedule } from '../../src/run/policies.ts';

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
    expect(sendBackoffMs(1, () => 0)).toBe(1_000);
    expect(sendBackoffMs(1, () => 1)).toBe(2_000);
    expect(sendBackoffMs(3, () => 0.5)).toBe(6_000);
    expect(sendBackoffMs(30, () => 1)).toBe(60_000);
  });

  /** The longest a schedule waits in all: one wait between each two of its attempts. */
  const longestWaitMs = (schedule: RetrySchedule) =>
    Array.from({ length: schedule.maximumAttempts - 1 }, (_, index) => backoffCeilingMs(schedule, index + 1)).reduce((total, wait) => total + wait, 0);

  it('spans what run/policies.ts says: five minutes for a send within its run, two of database trouble, one for a `sent` record', () => {
    expect(longestWaitMs(SEND_RETRY)).toBe(302_000);
    expect(longestWaitMs(BOOKKEEPING_RETRY)).toBe(121_000);
    expect(longestWaitMs(RECORD_SENT_RETRY)).toBe(57_750);
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

describe('what counts towards the circuit breaker', () => {
  const error = (init: ConstructorParameters<typeof TrustpilotError>[1]) => new TrustpilotError('x', init);
  it.each([
    ['a 503', error({ kind: 'retryable', status: 503 }), true],
    ['a timeout', error({ kind: 'retryable', errorCode: 'TIMEOUT' }), true],
    ['a 429 (Trustpilot is up, asking us to slow down)', error({ kind: 'retryable', status: 429 }), false],
    ['a 400 (this row)', error({ kind: 'rejected', status: 400 }), false],
    ['a 403 (configuration)', error({ kind: 'misconfigured', status: 403 }), false],
  ])('%s → %s', (_name, failure, expected) => {
    expect(looksDown(failure)).toBe(expected);
  });
});

describe('activity failures on their way into history', () => {
  it("keep the app's own failures whole: type, message, retryability and retry delay", () => {
    const original = ApplicationFailure.create({ message: "Activation 'x' is misconfigured", type: 'T', nonRetryable: true, nextRetryDelay: 1500 });
    const kept = redactedFailure(original) as InstanceType<typeof ApplicationFailure>;
    expect(kept).toMatchObject({ message: "Activation 'x' is misconfigured", type: 'T', nonRetryable: true, nextRetryDelay: 1500 });
  });
  it('say only the type and code of any other error, whose message may quote a row', () => {
    const unique = Object.assign(new Error('duplicate key value violates unique constraint: Key (row_key)=(bob@y.org) already exists'), { code: '23505' });
    expect(redactedFailure(unique)).toMatchObject({ message: 'database error (SQLSTATE 23505)', type: 'Error', nonRetryable: false });
    const parse = new SyntaxError('Unexpected token \'Z\', "Zoë Ångström" is not valid JSON');
    expect(redactedFailure(parse)).toMatchObject({ message: 'unexpected SyntaxError', type: 'SyntaxError' });
    const system = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    expect((redactedFailure(system) as Error).message).toBe('Error ECONNREFUSED');
  });
  it('keep a public error message (built from configuration and codes)', () => {
    const source = new SourceError("Activation 'a': relation \"shop.x\" does not exist (SQLSTATE 42P01)", 'permanent', '42P01');
    expect((redactedFailure(source) as Error).message).toContain('shop.x');
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
    expect(() => resolveCredentials(destination, { TRUSTPILOT_API_KEY: 'k' })).toThrow(/TRUSTPILOT_API_SECRET, TRUSTPILOT_BUSINESS_USER_ID/);
    expect(() => resolveCredentials(destination, { TRUSTPILOT_API_KEY: 'k', TRUSTPILOT_API_SECRET_FILE: '/nonexistent', TRUSTPILOT_BUSINESS_USER_ID: 'u' })).toThrow(
      /TRUSTPILOT_API_SECRET_FILE names a file that cannot be read \(ENOENT\)/,
    );
  });
});
