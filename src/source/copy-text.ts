/**
 * Rows in Postgres COPY text format, the format every engine streams keys in (the app database
 * loads them with `COPY … FROM STDIN` as they are): columns separated by a tab, one row per line,
 * `\N` for NULL, and backslash, tab, newline and carriage return escaped inside values.
 */

const NEEDS_ESCAPE = /[\\\t\n\r]/;
const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** One value as a COPY text field. */
export function copyField(value: string | null): string {
  if (value === null) return '\\N';
  // Most keys need no escaping: test once rather than replace every time.
  return NEEDS_ESCAPE.test(value) ? value.replace(/[\\\t\n\r]/g, (char) => ESCAPES[char] ?? char) : value;
}

/** A row of two values (a key and a cursor, or a key and a fingerprint) as a COPY text line. */
export function copyLine(first: string | null, second: string | null): string {
  return `${copyField(first)}\t${copyField(second)}\n`;
}

/**
 * The canonical text of a row key, the same in every engine, so that an activation's ledger keys
 * stay comparable when it moves to another warehouse: text as it is; integers and decimals in
 * plain decimal (decimals with their scale); booleans `true`/`false`; uuids in lower case with
 * dashes; dates as `YYYY-MM-DDT00:00:00.000Z`; timestamps as ISO with milliseconds in UTC (a
 * timestamp without time zone taken as UTC); composite keys as a compact JSON array of these texts.
 */
export function compositeKey(parts: readonly (string | null)[]): string | null {
  if (parts.some((part) => part === null)) return null;
  return JSON.stringify(parts);
}
