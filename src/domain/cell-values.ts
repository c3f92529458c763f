/**
 * Readers for warehouse cell values as the pg driver returns them (string, number,
 * bigint, boolean, Date, Buffer, arrays, parsed json). Blank text counts as absent.
 * Reasons never quote the value: cells hold personal data.
 */

export type CellResult<Value> = { ok: true; value: Value | undefined } | { ok: false; reason: string };

export function describeCellType(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (value instanceof Date) return 'a date';
  if (value instanceof Uint8Array) return 'binary data';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'boolean') return 'a boolean';
  if (typeof value === 'number' || typeof value === 'bigint') return 'a number';
  return `a ${typeof value}`;
}

/** Text, or a number turned into text (reference numbers and location ids are often numeric columns). */
export function readText(value: unknown): CellResult<string> {
  if (value === null || value === undefined) return { ok: true, value: undefined };
  if (typeof value === 'string') {
    const trimmed = value.trim();
    return { ok: true, value: trimmed === '' ? undefined : trimmed };
  }
  if (typeof value === 'bigint') return { ok: true, value: value.toString() };
  if (typeof value === 'number') {
    return Number.isFinite(value) ? { ok: true, value: String(value) } : { ok: false, reason: 'is not a finite number' };
  }
  return { ok: false, reason: `expected text, got ${describeCellType(value)}` };
}

export interface TextListOptions {
  /** SKU columns are sometimes integer arrays; tags never are. */
  acceptNumbers: boolean;
  /** Reason given for an object where a list of text is expected. */
  objectReason: string;
}

/**
 * A list of text from a Postgres array, a JSON array (json column or text that starts
 * with '['), or comma-separated text. Items are trimmed; blanks and duplicates dropped.
 */
export function readTextList(value: unknown, options: TextListOptions): CellResult<string[]> {
  if (value === null || value === undefined) return { ok: true, value: undefined };
  let items: unknown[];
  if (Array.isArray(value)) {
    items = value;
  } else if (typeof value === 'string') {
    const trimmed = value.trim();
    if (trimmed === '') return { ok: true, value: undefined };
    if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
      const parsed = parseJson(trimmed);
      if (parsed === undefined) return { ok: false, reason: 'looks like JSON but is not valid JSON' };
      if (!Array.isArray(parsed)) return { ok: false, reason: options.objectReason };
      items = parsed;
    } else {
      items = trimmed.split(',');
    }
  } else if (options.acceptNumbers && (typeof value === 'number' || typeof value === 'bigint')) {
    items = [value];
  } else if (typeof value === 'object' && !(value instanceof Date) && !(value instanceof Uint8Array)) {
    return { ok: false, reason: options.objectReason };
  } else {
    return { ok: false, reason: `expected text or a list, got ${describeCellType(value)}` };
  }

  const texts: string[] = [];
  for (const [index, item] of items.entries()) {
    const text = listItemText(item, options);
    if (!text.ok) return { ok: false, reason: `item ${index + 1}: ${text.reason}` };
    if (text.value !== undefined) texts.push(text.value);
  }
  const unique = [...new Set(texts)];
  return { ok: true, value: unique.length > 0 ? unique : undefined };
}

function listItemText(item: unknown, options: TextListOptions): CellResult<string> {
  if (typeof item === 'string') return readText(item);
  if (options.acceptNumbers && (typeof item === 'number' || typeof item === 'bigint')) return readText(item);
  if (item === null || item === undefined) return { ok: true, value: undefined };
  if (typeof item === 'object' && !Array.isArray(item)) return { ok: false, reason: options.objectReason };
  return { ok: false, reason: `expected text, got ${describeCellType(item)}` };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/*
 * ISO-8601 date or date-time with an optional UTC offset, as written by people and by
 * Postgres' text output ('2024-05-01 10:00:00+02'). Without an offset the time is read
 * as UTC, which is what Trustpilot expects; Date.parse would read it in the server's zone.
 */
const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const LATEST_SEND_TIME = Date.UTC(9999, 11, 31, 23, 59, 59);

/** A send time normalised to UTC `YYYY-MM-DDTHH:mm:ss` (seconds precision, no zone designator). */
export function readSendTime(value: unknown): CellResult<string> {
  if (value === null || value === undefined) return { ok: true, value: undefined };
  if (value instanceof Date) return formatUtc(value.getTime());
  if (typeof value !== 'string') return { ok: false, reason: `expected a timestamp, got ${describeCellType(value)}` };
  const text = value.trim();
  if (text === '') return { ok: true, value: undefined };

  const match = ISO_DATE_TIME.exec(text);
  if (match === null) return { ok: false, reason: 'is not an ISO-8601 date-time (e.g. 2024-05-01T09:30:00Z)' };
  const [, year = '', month = '', day = '', hour = '0', minute = '0', second = '0', offset] = match;
  const [y, mo, d, h, mi, s] = [year, month, day, hour, minute, second].map(Number) as [number, number, number, number, number, number];
  const local = Date.UTC(y, mo - 1, d, h, mi, s);
  const roundTrip = new Date(local);
  if (mo < 1 || mo > 12 || h > 23 || mi > 59 || s > 59 || roundTrip.getUTCDate() !== d || roundTrip.getUTCMonth() !== mo - 1) {
    return { ok: false, reason: 'is not a valid calendar date-time' };
  }
  return formatUtc(local - offsetMilliseconds(offset));
}

function offsetMilliseconds(offset: string | undefined): number {
  if (offset === undefined || offset.toUpperCase() === 'Z') return 0;
  const sign = offset.startsWith('-') ? -1 : 1;
  const digits = offset.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2)) : 0;
  return sign * (hours * 60 + minutes) * 60_000;
}

function formatUtc(epochMilliseconds: number): CellResult<string> {
  if (!Number.isFinite(epochMilliseconds)) return { ok: false, reason: 'is not a valid date' };
  if (epochMilliseconds < 0 || epochMilliseconds > LATEST_SEND_TIME) return { ok: false, reason: 'is out of range (1970 to 9999)' };
  return { ok: true, value: new Date(epochMilliseconds).toISOString().slice(0, 19) };
}
