import { closest, distance } from 'fastest-levenshtein';
import { z } from 'zod';

/**
 * zod reports all unknown keys of one object as a single issue. Its message is built
 * here from one sentence per key joined by this separator, so that `toConfigIssues`
 * can split it back into one issue per key with the key in the path.
 */
export const UNKNOWN_KEY_MESSAGE_SEPARATOR = '\n';

/** Returns a tailored message for a known mistake (e.g. a secret given as a value), or undefined. */
export type UnknownKeyHint = (key: string, allowedKeys: readonly string[]) => string | undefined;

/**
 * The allowed key an unknown one is most likely a typo of, or undefined when none is close:
 * within a third of the key's length in edits (at least 2), ignoring case, as column names are
 * suggested (src/source/columns.ts).
 */
export function closestKey(key: string, allowedKeys: readonly string[]): string | undefined {
  if (allowedKeys.length === 0) return undefined;
  const byLowerCase = new Map(allowedKeys.map((allowed) => [allowed.toLowerCase(), allowed]));
  const candidate = closest(key.toLowerCase(), [...byLowerCase.keys()]);
  const close = distance(key.toLowerCase(), candidate) <= Math.max(2, Math.floor(key.length / 3));
  return close ? byLowerCase.get(candidate) : undefined;
}

/** `did you mean 'schedule'? allowed keys: …` (the question only when a key is close). */
function keyAdvice(key: string, allowedKeys: readonly string[]): string {
  const suggestion = closestKey(key, allowedKeys);
  return `${suggestion === undefined ? '' : `did you mean '${suggestion}'? `}allowed keys: ${allowedKeys.join(', ')}`;
}

/** `unknown key 'shedule'; did you mean 'schedule'? allowed keys: …` */
export function unknownKeyMessage(key: string, allowedKeys: readonly string[]): string {
  return `unknown key '${key}'; ${keyAdvice(key, allowedKeys)}`;
}

/**
 * A strict object whose unknown-key errors say what to do: either a tailored hint, or the
 * closest allowed key and the list of keys that are allowed, because a typo in a config file
 * should never be silently ignored.
 */
export function strictObjectWithHints<Shape extends z.core.$ZodLooseShape>(shape: Shape, hint?: UnknownKeyHint) {
  const allowedKeys = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code !== 'unrecognized_keys') return undefined;
      return issue.keys
        .map((key) => hint?.(key, allowedKeys) ?? unknownKeyMessage(key, allowedKeys))
        .join(UNKNOWN_KEY_MESSAGE_SEPARATOR);
    },
  });
}

const LOOKS_LIKE_SECRET_VALUE = /key|secret|password|passwd|token|username|user|credential|auth/i;

/** Refuses keys that would put a secret itself into configuration (stored in the database, shown by the CLI). */
export const credentialValueHint: UnknownKeyHint = (key, allowedKeys) => {
  if (key.endsWith('Env') || !LOOKS_LIKE_SECRET_VALUE.test(key)) return undefined;
  const byName = `${key}Env`;
  const instead = allowedKeys.includes(byName)
    ? `; set ${byName} to the NAME of the environment variable that holds it`
    : allowedKeys.includes('credentials')
      ? '; put environment variable names under credentials (e.g. credentials.apiKeyEnv)'
      : `; ${keyAdvice(key, allowedKeys)}`;
  return `credentials are referenced by environment variable name; got a value for '${key}'${instead}`;
};
