import { describe, expect, it } from 'vitest';
import type { LevelWithSilent } from 'pino';
import { EnvError, logLevelFrom, readEnv } from '../../src/config/env.ts';
import { createLogger, isSensitiveKey, LOG_REDACTED, logger, sanitiseForLog, serialiseError } from '../../src/runtime/logger.ts';

const EMAIL = 'jane.doe@example.com';

/** A Postgres-style error: the message and `detail` quote the row's value. */
function databaseError(): Error {
  class DatabaseError extends Error {}
  return Object.assign(new DatabaseError(`duplicate key value violates unique constraint; Key (email)=(${EMAIL}) already exists`), {
    code: '23505',
    detail: `Key (email)=(${EMAIL}) already exists.`,
    table: 'ledger',
  });
}

function captureLogger(level: LevelWithSilent = 'debug') {
  const lines: string[] = [];
  const log = createLogger({ level, destination: { write: (line: string) => void lines.push(line) } });
  return { log, lines, parsed: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe('sanitiseForLog', () => {
  it('redacts sensitive keys at any depth, in any case or spelling, and keeps the rest', () => {
    const input = {
      activationId: 'weekly-eu',
      counts: { sent: 3 },
      run: {
        rows: [{ consumerEmail: EMAIL, consumer_name: 'Jane Doe', referenceNumber: 'ORDER-1' }],
        request: { headers: { Authorization: 'Bearer tpa-1', Cookie: 'sid=1', 'x-api-key': 'k' }, body: { senderEmail: 's@x.org', replyTo: 'r@x.org' } },
      },
      oauth: { deeper: { access_token: 'tpa-1', refreshToken: 'tpr-1', API_SECRET: 's', password: 'p', name: 'Jane' } },
      payload: { anything: 1 },
    };
    expect(sanitiseForLog(input)).toEqual({
      activationId: 'weekly-eu',
      counts: { sent: 3 },
      run: {
        rows: [{ consumerEmail: LOG_REDACTED, consumer_name: LOG_REDACTED, referenceNumber: 'ORDER-1' }],
        request: { headers: { Authorization: LOG_REDACTED, Cookie: LOG_REDACTED, 'x-api-key': LOG_REDACTED }, body: { senderEmail: LOG_REDACTED, replyTo: LOG_REDACTED } },
      },
      oauth: { deeper: { access_token: LOG_REDACTED, refreshToken: LOG_REDACTED, API_SECRET: LOG_REDACTED, password: LOG_REDACTED, name: LOG_REDACTED } },
      payload: LOG_REDACTED,
    });
    expect(input.run.rows[0]!.consumerEmail).toBe(EMAIL);
  });

  it.each(['consumerEmail', 'CONSUMER_EMAIL', 'customerEmails', 'client_secret', 'set-cookie', 'id_token', 'proxy-authorization', 'userName'])('%s is sensitive', (key) => {
    expect(isSensitiveKey(key)).toBe(true);
  });

  it.each(['activationId', 'hostname', 'status', 'errorCode', 'count', 'tableName'])('%s is not', (key) => {
    expect(isSensitiveKey(key)).toBe(false);
  });

  it('serialises errors at any depth as type, code and frames, never the message', () => {
    const result = sanitiseForLog({ outcome: { attempts: [{ error: databaseError() }] }, err: new TypeError(`bad ${EMAIL}`) }) as {
      outcome: { attempts: { error: Record<string, unknown> }[] };
      err: Record<string, unknown>;
    };
    const dbError = result.outcome.attempts[0]!.error;
    expect(dbError).toMatchObject({ type: 'DatabaseError', code: '23505' });
    expect(Object.keys(dbError).sort()).toEqual(['code', 'stack', 'type']);
    expect(dbError['stack']).toEqual(expect.arrayContaining([expect.stringMatching(/^at /)]));
    expect(result.err).toMatchObject({ type: 'TypeError' });
    expect(JSON.stringify(result)).not.toMatch(/jane|duplicate|bad/i);
  });

  it('follows cause chains and aggregated errors without their messages', () => {
    const inner = Object.assign(new Error(`connect to ${EMAIL}`), { code: 'ECONNREFUSED' });
    const outer = new Error(`failed for ${EMAIL}`, { cause: inner });
    const aggregate = new AggregateError([outer, new RangeError('Jane')], 'several');
    const serialised = serialiseError(aggregate);
    expect(serialised).toMatchObject({ type: 'AggregateError', errors: [{ type: 'Error', cause: { type: 'Error', code: 'ECONNREFUSED' } }, { type: 'RangeError' }] });
    expect(JSON.stringify(serialised)).not.toMatch(/jane|several|connect|failed/i);
  });

  it('keeps no part of a message that spans lines, even one that looks like a frame', () => {
    const error = new Error(`first line\n    at Jane Doe (${EMAIL})\nlast line`);
    const serialised = serialiseError(error);
    expect(serialised.stack.length).toBeGreaterThan(0);
    expect(JSON.stringify(serialised)).not.toMatch(/jane|first|last/i);
  });

  it('drops codes that do not look like codes', () => {
    expect(serialiseError(Object.assign(new Error('x'), { code: 'jane' }))).not.toHaveProperty('code');
    expect(serialiseError(Object.assign(new Error('x'), { code: 42 }))).not.toHaveProperty('code');
  });

  it('treats error-shaped objects as errors', () => {
    expect(sanitiseForLog({ failure: { message: `bad ${EMAIL}`, stack: `Error: bad ${EMAIL}\n    at f (x.ts:1:1)` } })).toEqual({
      failure: { type: 'Error', stack: ['at f (x.ts:1:1)'] },
    });
  });

  it('cuts cycles and deep nesting, and serialises dates and maps', () => {
    const cyclic: Record<string, unknown> = { id: 1 };
    cyclic['self'] = cyclic;
    expect(sanitiseForLog(cyclic)).toEqual({ id: 1, self: '[circular]' });

    let deep: Record<string, unknown> = { email: EMAIL };
    for (let i = 0; i < 50; i++) deep = { next: deep };
    expect(JSON.stringify(sanitiseForLog(deep))).toContain('[depth limit]');
    expect(JSON.stringify(sanitiseForLog(deep))).not.toContain(EMAIL);

    const at = new Date('2025-01-01T00:00:00Z');
    expect(sanitiseForLog({ at, byKey: new Map<string, unknown>([['email', EMAIL], ['n', 1]]) })).toEqual({ at: '2025-01-01T00:00:00.000Z', byKey: { email: LOG_REDACTED, n: 1 } });
  });
});

describe('logger', () => {
  it('writes nothing personal at debug level, for objects, errors and child bindings', () => {
    const { log, lines, parsed } = captureLogger('debug');
    log.debug({ send: { request: { consumerEmail: EMAIL, consumerName: 'Jane Doe' }, response: { access_token: 'tpa-secret' } } }, 'sending');
    log.debug({ headers: { authorization: 'Bearer tpa-secret' } }, 'headers');
    log.error(databaseError());
    log.error({ err: databaseError() });
    log.error({ error: databaseError(), activationId: 'a1' }, 'record failed');
    log.error(databaseError(), 'ledger write failed');
    log.child({ consumerEmail: EMAIL, activationId: 'a1' }).child({ nested: { email: EMAIL } }).info('child');
    expect(lines).toHaveLength(7);
    for (const line of lines) expect(line).not.toMatch(/jane|tpa-secret|duplicate key/i);

    const [sending, , bareError, errKey, errorKey, withMessage, child] = parsed();
    expect(sending).toMatchObject({ msg: 'sending', send: { request: { consumerEmail: LOG_REDACTED } } });
    expect(bareError).toMatchObject({ msg: 'DatabaseError (message not logged)', err: { type: 'DatabaseError', code: '23505' } });
    expect(errKey).toMatchObject({ msg: 'DatabaseError (message not logged)', err: { type: 'DatabaseError', code: '23505' } });
    expect(errorKey).toMatchObject({ msg: 'record failed', activationId: 'a1', error: { type: 'DatabaseError', code: '23505' } });
    expect(withMessage).toMatchObject({ msg: 'ledger write failed', err: { type: 'DatabaseError' } });
    expect(child).toMatchObject({ msg: 'child', activationId: 'a1', consumerEmail: LOG_REDACTED, nested: { email: LOG_REDACTED } });
  });

  it('sanitises bindings set later on a child', () => {
    const { log, lines, parsed } = captureLogger('info');
    const child = log.child({ activationId: 'a1' });
    child.setBindings({ consumerName: 'Jane Doe' });
    child.info('rebound');
    expect(lines[0]).not.toMatch(/jane/i);
    expect(parsed()[0]).toMatchObject({ activationId: 'a1', consumerName: LOG_REDACTED });
  });

  it('honours the level', () => {
    const { log, lines } = captureLogger('warn');
    log.info('hidden');
    log.warn('shown');
    expect(lines).toHaveLength(1);
  });

  it('is exported with the level from LOG_LEVEL', () => {
    expect(logger.level).toBe(logLevelFrom(process.env));
  });
});

describe('logLevelFrom', () => {
  it.each([
    [undefined, 'info'],
    ['', 'info'],
    ['debug', 'debug'],
    [' WARN ', 'warn'],
    ['silent', 'silent'],
  ])('%j -> %s', (value, expected) => {
    expect(logLevelFrom({ LOG_LEVEL: value })).toBe(expected);
  });

  // The logger exists before readEnv runs, so that readEnv's refusal can be logged.
  it.each(['verbose', 'information', '10'])('gives the default for %j, which readEnv refuses naming LOG_LEVEL', (value) => {
    expect(logLevelFrom({ LOG_LEVEL: value })).toBe('info');
    expect(() => readEnv({ LOG_LEVEL: value })).toThrow(EnvError);
    expect(() => readEnv({ LOG_LEVEL: value })).toThrow(/^\s*LOG_LEVEL: must be one of trace, debug, info, warn, error, fatal, silent$/m);
  });
});
