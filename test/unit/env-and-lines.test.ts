import { afterEach, describe, expect, it, vi } from 'vitest';
import { alertText, type AlertEvent } from '../../src/activities/after-run.ts';
import { EnvError, readEnv, trustpilotCredentialVariables } from '../../src/config/env.ts';
import { formatRunLine, type RunSummary } from '../../src/domain/index.ts';
import { runSummary } from '../fixtures.ts';

describe('trustpilotCredentialVariables', () => {
  const names = ['TRUSTPILOT_API_KEY', 'TRUSTPILOT_API_SECRET', 'TRUSTPILOT_BUSINESS_USER_ID', 'TRUSTPILOT_USERNAME', 'TRUSTPILOT_PASSWORD'];

  it('finds none in an environment without Trustpilot credentials', () => {
    expect(trustpilotCredentialVariables({ PATH: '/usr/bin', DATABASE_URL: 'postgres://localhost/app' })).toEqual([]);
  });

  it.each(names)('counts %s set to a value', (name) => {
    expect(trustpilotCredentialVariables({ [name]: 'secret-value' })).toEqual([name]);
  });

  it.each(names)('counts %s_FILE set to a path', (name) => {
    expect(trustpilotCredentialVariables({ [`${name}_FILE`]: '/run/secrets/tp' })).toEqual([`${name}_FILE`]);
  });

  it('does not count empty or blank values', () => {
    expect(trustpilotCredentialVariables({ TRUSTPILOT_API_KEY: '', TRUSTPILOT_API_SECRET_FILE: '   ', TRUSTPILOT_PASSWORD: '\t' })).toEqual([]);
  });

  it('lists every variable set, in a fixed order', () => {
    expect(
      trustpilotCredentialVariables({ TRUSTPILOT_PASSWORD: 'p', TRUSTPILOT_API_KEY_FILE: '/k', TRUSTPILOT_API_KEY: 'k', TRUSTPILOT_USERNAME: '' }),
    ).toEqual(['TRUSTPILOT_API_KEY', 'TRUSTPILOT_API_KEY_FILE', 'TRUSTPILOT_PASSWORD']);
  });

  it('ignores other variables that merely start like a credential', () => {
    expect(trustpilotCredentialVariables({ TRUSTPILOT_API_URL: 'https://api.trustpilot.com', TRUSTPILOT_API_KEYS: 'x' })).toEqual([]);
  });
});

describe('readEnv', () => {
  function envError(source: NodeJS.ProcessEnv): EnvError {
    try {
      readEnv(source);
    } catch (error) {
      if (error instanceof EnvError) return error;
      throw error;
    }
    throw new Error('expected the environment to be refused');
  }

  it('fills the defaults of an empty environment', () => {
    const env = readEnv({});
    expect(env.LOG_LEVEL).toBe('info');
    expect(env.TEMPORAL_LOG_LEVEL).toBeUndefined();
    expect(env.METRICS_BIND_ADDRESS).toBe('127.0.0.1:9464');
    expect(env.TEMPORAL_NAMESPACE).toBe('default');
  });

  it('refuses an invalid LOG_LEVEL, naming the variable and the allowed levels', () => {
    const error = envError({ LOG_LEVEL: 'verbose' });
    expect(error.message).toContain('LOG_LEVEL');
    expect(error.message).toContain('must be one of trace, debug, info, warn, error, fatal, silent');
  });

  it('reads LOG_LEVEL in any case, and an empty one as the default', () => {
    expect(readEnv({ LOG_LEVEL: 'DEBUG' }).LOG_LEVEL).toBe('debug');
    expect(readEnv({ LOG_LEVEL: ' Warn ' }).LOG_LEVEL).toBe('warn');
    expect(readEnv({ LOG_LEVEL: '' }).LOG_LEVEL).toBe('info');
  });

  it('reads TEMPORAL_LOG_LEVEL case-insensitively', () => {
    expect(readEnv({ TEMPORAL_LOG_LEVEL: 'debug' }).TEMPORAL_LOG_LEVEL).toBe('DEBUG');
    expect(readEnv({ TEMPORAL_LOG_LEVEL: 'Warn' }).TEMPORAL_LOG_LEVEL).toBe('WARN');
    expect(readEnv({ TEMPORAL_LOG_LEVEL: 'ERROR' }).TEMPORAL_LOG_LEVEL).toBe('ERROR');
  });

  it('refuses an invalid TEMPORAL_LOG_LEVEL, naming the variable', () => {
    const error = envError({ TEMPORAL_LOG_LEVEL: 'loud' });
    expect(error.message).toContain('TEMPORAL_LOG_LEVEL');
    expect(error.message).not.toMatch(/^\s*LOG_LEVEL:/m);
  });

  it("turns the metrics endpoint off with METRICS_BIND_ADDRESS 'off'", () => {
    expect(readEnv({ METRICS_BIND_ADDRESS: 'off' }).METRICS_BIND_ADDRESS).toBeUndefined();
  });

  it('serves metrics on 127.0.0.1:9464 by default, and when the variable is empty', () => {
    expect(readEnv({}).METRICS_BIND_ADDRESS).toBe('127.0.0.1:9464');
    expect(readEnv({ METRICS_BIND_ADDRESS: '' }).METRICS_BIND_ADDRESS).toBe('127.0.0.1:9464');
  });

  it('accepts host:port and [ipv6]:port', () => {
    expect(readEnv({ METRICS_BIND_ADDRESS: '0.0.0.0:9000' }).METRICS_BIND_ADDRESS).toBe('0.0.0.0:9000');
    expect(readEnv({ METRICS_BIND_ADDRESS: '[::1]:9464' }).METRICS_BIND_ADDRESS).toBe('[::1]:9464');
  });

  it.each(['9464', 'localhost', 'http://0.0.0.0:9464', 'on'])("refuses METRICS_BIND_ADDRESS '%s', naming the variable", (value) => {
    const error = envError({ METRICS_BIND_ADDRESS: value });
    expect(error.message).toContain('METRICS_BIND_ADDRESS');
    expect(error.message).toContain("must be host:port (e.g. 0.0.0.0:9464) or 'off'");
  });

  it('reports every invalid variable at once', () => {
    const error = envError({ LOG_LEVEL: 'verbose', METRICS_BIND_ADDRESS: 'nowhere', WAREHOUSE_DATABASE_URL: 'mysql://x' });
    expect(error.message).toContain('LOG_LEVEL');
    expect(error.message).toContain('METRICS_BIND_ADDRESS');
    expect(error.message).toContain('WAREHOUSE_DATABASE_URL');
  });
});

function run(overrides: Partial<RunSummary> = {}): RunSummary {
  return runSummary({
    runId: 42,
    activationId: 'orders',
    startedAt: '2024-05-01T10:00:00.000Z',
    finishedAt: '2024-05-01T10:00:12.500Z',
    fullScan: false,
    sourceRows: 1_000,
    newRows: 10,
    sent: 8,
    rejected: 1,
    failed: 1,
    ...overrides,
  });
}

describe('formatRunLine', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('carries the run id, activation, status, duration and counts', () => {
    expect(formatRunLine(run())).toBe('[2024-05-01T10:00:12.500Z] run 42 orders succeeded in 12.5s: new 10 / sent 8 / rejected 1 / failed 1');
  });

  it("carries the run's own finish time, not the time of printing", () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2030-01-01T00:00:00.000Z'));
    const line = formatRunLine(run());
    expect(line.startsWith('[2024-05-01T10:00:12.500Z]')).toBe(true);
    expect(line).not.toContain('2030');
  });

  it('carries the start time and an unknown duration while the run has not finished', () => {
    const line = formatRunLine(run({ status: 'running', finishedAt: null }));
    expect(line.startsWith('[2024-05-01T10:00:00.000Z] run 42 orders running in ?s: ')).toBe(true);
  });

  it('leaves out the duration of a skipped run', () => {
    const line = formatRunLine(run({ status: 'skipped', finishedAt: '2024-05-01T10:00:00.100Z' }));
    expect(line).toBe('[2024-05-01T10:00:00.100Z] run 42 orders skipped: new 10 / sent 8 / rejected 1 / failed 1');
  });

  it('adds no extras when they are all zero', () => {
    expect(formatRunLine(run())).not.toContain('(');
  });

  it('adds each non-zero extra, and only those', () => {
    const line = formatRunLine(run({ retriedRows: 3, baselineRows: 0, duplicateKeys: 2, nullKeys: 0, inDoubt: 1, abandoned: 0 }));
    expect(line).toContain('(retried 3, duplicate keys 2, in doubt 1)');
    expect(line).not.toContain('baseline');
    expect(line).not.toContain('without a key');
    expect(line).not.toContain('abandoned');
  });

  it('names every kind of extra', () => {
    const line = formatRunLine(run({ retriedRows: 1, baselineRows: 2, duplicateKeys: 3, nullKeys: 4, inDoubt: 5, abandoned: 6 }));
    expect(line).toContain('(retried 1, baseline 2, duplicate keys 3, rows without a key 4, in doubt 5, abandoned 6)');
  });

  it('ends with the error of a failed run', () => {
    const line = formatRunLine(run({ status: 'failed', error: "activation 'orders': relation \"shop.orders\" does not exist" }));
    expect(line.endsWith(" — activation 'orders': relation \"shop.orders\" does not exist")).toBe(true);
    expect(line).toContain('orders failed in 12.5s');
  });

  it('is one line', () => {
    expect(formatRunLine(run({ retriedRows: 1, error: 'stopped' }))).not.toContain('\n');
  });
});

describe('alertText', () => {
  const countLines = (text: string) => text.split('\n').filter((line) => /new \d+ \/ sent \d+/.test(line)).length;

  it('reports a failed run with its activation, run and reason, then its one line of counts', () => {
    const failed = run({ status: 'failed', failureKind: 'misconfigured', error: 'the reader role may not read the segment' });
    const text = alertText('failed', failed, 3);
    const [headline, ...rest] = text.split('\n');
    expect(headline).toBe(':red_circle: Trustpilot invitations: run 42 of orders failed — the reader role may not read the segment');
    expect(rest).toEqual([formatRunLine(failed)]);
  });

  it('says when a failed run recorded no reason', () => {
    expect(alertText('failed', run({ status: 'failed', error: null }), 3)).toContain('failed — no reason recorded');
  });

  it('reports a recovery with the activation and the succeeding run', () => {
    const text = alertText('recovered', run(), 3);
    expect(text.split('\n')[0]).toBe(':large_green_circle: Trustpilot invitations: orders recovered (run 42 succeeded)');
    expect(countLines(text)).toBe(1);
  });

  it('reports the share of rejected rows among the rows handled, rounded to a percent', () => {
    const text = alertText('rejected_share', run({ sent: 5, rejected: 2, failed: 0 }), 3);
    expect(text.split('\n')[0]).toBe(
      ':warning: Trustpilot invitations: 29% of the rows of run 42 of orders were rejected (see `cli rows orders --status rejected`)',
    );
    expect(countLines(text)).toBe(1);
  });

  it('reports 0% rather than dividing by zero when no row was handled', () => {
    expect(alertText('rejected_share', run({ sent: 0, rejected: 0, failed: 0 }), 3)).toContain(': 0% of the rows of run 42');
  });

  it('reports a pause with the number of failed runs and how to resume, without counts', () => {
    const text = alertText('paused', run({ status: 'failed', failureKind: 'misconfigured' }), 4);
    expect(text).toBe(
      ':double_vertical_bar: Trustpilot invitations: orders was paused after 4 runs in a row failed for configuration reasons; fix it, then `cli resume orders`',
    );
    expect(countLines(text)).toBe(0);
  });

  it.each<AlertEvent>(['failed', 'recovered', 'rejected_share', 'paused'])('never carries more than one line of counts (%s)', (event) => {
    const text = alertText(event, run({ status: event === 'recovered' ? 'succeeded' : 'failed', error: 'x', retriedRows: 2, inDoubt: 1 }), 3);
    expect(countLines(text)).toBeLessThanOrEqual(1);
    expect(text).toContain('orders');
  });
});
