import { sqlNames } from '../domain/read-only-sql.ts';

/**
 * Whether a server's message may be shown: only when it is one of a few known forms (per error
 * code) and every captured part of it passes its check, typically "is a name the activation's
 * configuration uses". The same forms can carry a row's value (`select customer_email::regclass`
 * fails with `relation "<the email>" does not exist`), so the form alone proves nothing.
 */

/** Names the configuration uses, compared case-insensitively. */
export type ConfigNames = ReadonlySet<string>;
/** Whether one captured part of a server message is safe to show. */
export type CaptureCheck = (capture: string, names: ConfigNames) => boolean;

/**
 * A name as the server prints it: dotted parts, each bare (`shop.orders`) or double-quoted
 * (`"Shop"."Orders"`). Every part must be a name of the configuration.
 */
export const configuredName: CaptureCheck = (capture, names) => {
  const parts = nameParts(capture);
  return parts !== undefined && parts.every((part) => names.has(part.toLowerCase()));
};

export interface ServerText {
  /** the whole message; each capturing group is checked by the check at its position */
  pattern: RegExp;
  checks: readonly CaptureCheck[];
}

export function serverText(pattern: RegExp, ...checks: CaptureCheck[]): ServerText {
  // Every variable part of a form must be captured and checked: a form with an unchecked group
  // would show whatever the group matched.
  const groups = (new RegExp(`${pattern.source}|`).exec('')?.length ?? 1) - 1;
  if (!pattern.source.startsWith('^') || !pattern.source.endsWith('$') || groups !== checks.length) {
    throw new Error(`server text form ${pattern.source} must be anchored and check each of its ${groups} group(s)`);
  }
  return { pattern, checks };
}

/** `a.b`, `"A"."B"`, `a."B c"` into its parts; undefined for anything else (an empty part, a stray quote). */
function nameParts(text: string): string[] | undefined {
  const parts: string[] = [];
  let index = 0;
  for (;;) {
    let part = '';
    if (text[index] === '"') {
      index += 1;
      for (;;) {
        const quote = text.indexOf('"', index);
        if (quote === -1) return undefined;
        part += text.slice(index, quote);
        index = quote + 1;
        if (text[index] !== '"') break;
        part += '"';
        index += 1;
      }
    } else {
      const dot = text.indexOf('.', index);
      const end = dot === -1 ? text.length : dot;
      part = text.slice(index, end);
      if (part.includes('"')) return undefined;
      index = end;
    }
    if (part === '') return undefined;
    parts.push(part);
    if (index === text.length) return parts;
    if (text[index] !== '.') return undefined;
    index += 1;
  }
}

/** The server's message when it is one of `forms` naming only configured names, else undefined. */
export function showableServerText(forms: readonly ServerText[] | undefined, message: string, configText: string | undefined): string | undefined {
  if (forms === undefined) return undefined;
  let names: ConfigNames | undefined;
  for (const { pattern, checks } of forms) {
    const match = pattern.exec(message);
    if (match === null) continue;
    names ??= new Set(sqlNames(configText ?? '').map((name) => name.toLowerCase()));
    const known = names;
    if (checks.every((check, index) => check(match[index + 1] ?? '', known))) return message;
  }
  return undefined;
}

