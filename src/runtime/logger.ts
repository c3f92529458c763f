import pino, { type Bindings, type ChildLoggerOptions, type DestinationStream, type LevelWithSilent, type LogFn, type Logger, type LoggerOptions } from 'pino';
import { logLevelFrom } from '../config/env.ts';

/**
 * The app's structured logger. Call sites log ids, counts and reasons; personal data must not
 * reach a log line. Every object logged is walked before it is written: values under
 * personal-data or secret keys are replaced at any depth (pino's own `redact` paths match a
 * fixed number of levels only), and errors are reduced to type, code and stack frames, because
 * an error message may quote a row value (a Postgres error quoting a duplicate key, say).
 *
 * What the walk cannot see is text a call site builds itself: the message string (and any
 * `%s` arguments) is written as given.
 */

export const LOG_REDACTED = '[redacted]';
const MAX_DEPTH = 10;
const MAX_STACK_FRAMES = 30;
const MAX_CAUSE_DEPTH = 5;
const MAX_AGGREGATED_ERRORS = 10;

/** Compared after lower-casing and dropping `_`, `-` and other separators (so access_token = accessToken). */
const SENSITIVE_KEYS = new Set([
  'name',
  'consumername',
  'sendername',
  'customername',
  'firstname',
  'lastname',
  'fullname',
  'displayname',
  'username',
  'emailaddress',
  'replyto',
  'phone',
  'phonenumber',
  'passwd',
  'pwd',
  'payload',
  'payloads',
  'credentials',
]);
/** Any key ending like this: consumerEmail, customerEmails, apiSecret, client_secret, refresh_token, set-cookie, x-api-key. */
const SENSITIVE_SUFFIXES = ['email', 'emails', 'password', 'secret', 'token', 'tokens', 'cookie', 'cookies', 'authorization', 'apikey'];

const IDENTIFIER = /^[A-Za-z_$][\w$]{0,63}$/;
/** SQLSTATE ("23505", "42P01") and Node/undici codes ("ECONNREFUSED", "UND_ERR_SOCKET"). */
const ERROR_CODE = /^[A-Z0-9_]{1,48}$/;
const STACK_FRAME = /^\s*at\s/;

export function isSensitiveKey(key: string): boolean {
  const normalised = key.toLowerCase().replace(/[^a-z0-9]/g, '');
  return SENSITIVE_KEYS.has(normalised) || SENSITIVE_SUFFIXES.some((suffix) => normalised.endsWith(suffix));
}

interface ErrorLike {
  stack?: unknown;
  message?: unknown;
  code?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/** Error instances, and objects that carry a message and a stack the way errors from other realms do. */
function isErrorLike(value: unknown): value is ErrorLike {
  if (value instanceof Error) return true;
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as ErrorLike;
  return typeof candidate.message === 'string' && typeof candidate.stack === 'string';
}

export interface SerialisedError {
  type: string;
  code?: string;
  stack: string[];
  cause?: SerialisedError;
  errors?: SerialisedError[];
}

function errorType(error: ErrorLike): string {
  const constructorName = (error as { constructor?: { name?: unknown } }).constructor?.name;
  if (typeof constructorName === 'string' && IDENTIFIER.test(constructorName) && constructorName !== 'Object') return constructorName;
  const name = (error as { name?: unknown }).name;
  return typeof name === 'string' && IDENTIFIER.test(name) ? name : 'Error';
}

/** The header V8 puts first in a stack: "Name: message". */
function stackHeaderOf(error: ErrorLike): string | undefined {
  try {
    return Error.prototype.toString.call(error);
  } catch {
    return undefined;
  }
}

/**
 * Stack frames only. The header (and with it a message spanning several lines) is cut off by
 * its known length before the frames are picked, so no part of the message can pass as a frame.
 */
function stackFramesOf(error: ErrorLike): string[] {
  if (typeof error.stack !== 'string') return [];
  const header = stackHeaderOf(error);
  const body = header !== undefined && error.stack.startsWith(header) ? error.stack.slice(header.length) : error.stack;
  return body
    .split('\n')
    .filter((line) => STACK_FRAME.test(line))
    .slice(0, MAX_STACK_FRAMES)
    .map((line) => line.trim());
}

/** An error as it may appear in a log line: type, code and frames, never the message. */
export function serialiseError(error: unknown, causeDepth = 0): SerialisedError {
  if (!isErrorLike(error)) return { type: typeof error, stack: [] };
  const serialised: SerialisedError = { type: errorType(error), stack: stackFramesOf(error) };
  if (typeof error.code === 'string' && ERROR_CODE.test(error.code)) serialised.code = error.code;
  if (causeDepth < MAX_CAUSE_DEPTH && isErrorLike(error.cause)) serialised.cause = serialiseError(error.cause, causeDepth + 1);
  if (causeDepth < MAX_CAUSE_DEPTH && Array.isArray(error.errors)) {
    serialised.errors = error.errors
      .filter(isErrorLike)
      .slice(0, MAX_AGGREGATED_ERRORS)
      .map((inner) => serialiseError(inner, causeDepth + 1));
  }
  return serialised;
}

function jsonFormOf(value: object): unknown {
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON !== 'function') return value;
  try {
    return (toJSON as () => unknown).call(value);
  } catch {
    return '[unserialisable]';
  }
}

function walk(value: unknown, depth: number, ancestors: Set<object>): unknown {
  if (typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (typeof value !== 'object' || value === null) return value;
  if (isErrorLike(value)) return serialiseError(value);
  if (ancestors.has(value)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[depth limit]';
  ancestors.add(value);
  try {
    if (Array.isArray(value)) return value.map((item: unknown) => walk(item, depth + 1, ancestors));
    if (value instanceof Set) return [...value].map((item: unknown) => walk(item, depth + 1, ancestors));
    if (value instanceof Map) return walkEntries([...value.entries()].map(([key, item]: [unknown, unknown]) => [String(key), item]), depth, ancestors);
    const json = jsonFormOf(value);
    if (json !== value) return walk(json, depth + 1, ancestors);
    return walkEntries(Object.entries(value), depth, ancestors);
  } finally {
    ancestors.delete(value);
  }
}

function walkEntries(entries: [string, unknown][], depth: number, ancestors: Set<object>): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, child] of entries) {
    if (child === undefined) continue;
    result[key] = isSensitiveKey(key) ? LOG_REDACTED : walk(child, depth + 1, ancestors);
  }
  return result;
}

/**
 * What a logged object becomes before it is written: sensitive keys redacted at any depth,
 * errors serialised without their messages, cycles and very deep nesting cut. Pure.
 */
export function sanitiseForLog(value: unknown): unknown {
  return walk(value, 0, new Set());
}

function sanitisedRecord(value: Record<string, unknown>): Record<string, unknown> {
  const sanitised = sanitiseForLog(value);
  return typeof sanitised === 'object' && sanitised !== null && !Array.isArray(sanitised) ? (sanitised as Record<string, unknown>) : {};
}

function withheldMessageFor(error: unknown): string {
  return `${serialiseError(error).type} (message not logged)`;
}

/**
 * pino takes the message of an error logged without a message of its own (`logger.error(err)`,
 * `logger.error({ err })`) before any formatter runs; supplying a message first prevents that.
 */
export function withoutErrorMessages(args: readonly unknown[]): unknown[] {
  const [first, ...rest] = args;
  const hasOwnMessage = typeof rest[0] === 'string';
  if (isErrorLike(first)) return hasOwnMessage ? [{ err: first }, ...rest] : [{ err: first }, withheldMessageFor(first)];
  if (typeof first === 'object' && first !== null && !hasOwnMessage) {
    const err = (first as { err?: unknown }).err;
    if (isErrorLike(err) && (first as { msg?: unknown }).msg === undefined) return [first, withheldMessageFor(err)];
  }
  return [...args];
}

export interface CreateLoggerOptions {
  /** Default: LOG_LEVEL, read as readEnv reads it (see logLevelFrom). */
  level?: LevelWithSilent;
  /** Where lines go; default stdout. Tests pass a stream to read what would be written. */
  destination?: DestinationStream;
}

export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const config: LoggerOptions = {
    level: options.level ?? logLevelFrom(process.env),
    formatters: {
      log: sanitisedRecord,
      bindings: sanitisedRecord,
    },
    // Errors are already reduced by the formatter; pino's default serializer would look for a message.
    serializers: { err: (value: unknown) => value },
    hooks: {
      logMethod(args, method) {
        method.apply(this, withoutErrorMessages(args) as Parameters<LogFn>);
      },
    },
  };
  const root = options.destination === undefined ? pino(config) : pino(config, options.destination);
  sanitiseChildBindings(root);
  return root;
}

type ChildMethod = (this: Logger, bindings: Bindings, options?: ChildLoggerOptions) => Logger;

/**
 * pino applies `formatters.bindings` to the root's bindings only: a child's bindings
 * (`logger.child({ ... })`, `setBindings`) are serialised as given. Children are created with the
 * parent as prototype, so replacing the two methods on the root covers every descendant.
 */
function sanitiseChildBindings(root: Logger): void {
  // Taken unbound on purpose: each descendant calls them with itself as `this`. pino's generic
  // signature (custom levels) is irrelevant here: the levels are pino's own.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const child = root.child as unknown as ChildMethod;
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const setBindings = root.setBindings;
  root.child = function (this: Logger, bindings: Bindings, childOptions?: ChildLoggerOptions) {
    return child.call(this, sanitisedRecord(bindings), childOptions);
  } as unknown as Logger['child'];
  root.setBindings = function (this: Logger, bindings: Bindings) {
    setBindings.call(this, sanitisedRecord(bindings));
  };
}

export const logger = createLogger();
