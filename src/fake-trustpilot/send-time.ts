/**
 * `preferredSendTime` parsing. Trustpilot documents `MM/DD/YYYY HH:mm:ss` (UTC) and clients
 * commonly send ISO-8601 (`2013-09-07T13:37:00`, optionally with milliseconds and `Z`).
 * The field is UTC by definition, so an offset other than UTC is refused rather than
 * silently shifted.
 */
export type SendTimeParse = { ok: true; epochMs: number } | { ok: false; message: string };

const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/;
const US_DATE_TIME = /^(\d{2})\/(\d{2})\/(\d{4}) (\d{2}):(\d{2}):(\d{2})$/;
const UTC_OFFSETS = new Set(['Z', '+00:00', '+0000', '-00:00', '-0000']);

const FORMAT_HINT = 'must be UTC as YYYY-MM-DDTHH:mm:ss[Z] or MM/DD/YYYY HH:mm:ss';

export function parsePreferredSendTime(value: string): SendTimeParse {
  const iso = ISO_8601.exec(value);
  if (iso !== null) {
    const [, year, month, day, hour, minute, second, fraction, offset] = iso;
    if (offset !== undefined && !UTC_OFFSETS.has(offset)) return { ok: false, message: `${FORMAT_HINT} (the offset is not UTC)` };
    const millis = fraction === undefined ? 0 : Number(fraction.slice(0, 3).padEnd(3, '0'));
    return fromParts(Number(year), Number(month), Number(day), Number(hour), Number(minute), Number(second), millis);
  }
  const us = US_DATE_TIME.exec(value);
  if (us !== null) {
    const [, month, day, year, hour, minute, second] = us;
    return fromParts(Number(year), Number(month), Number(day), Number(hour), Number(minute), Number(second), 0);
  }
  return { ok: false, message: FORMAT_HINT };
}

/** Date.UTC rolls 02/30 over to March; a real calendar date must round-trip unchanged. */
function fromParts(year: number, month: number, day: number, hour: number, minute: number, second: number, millis: number): SendTimeParse {
  const epochMs = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  const date = new Date(epochMs);
  const isRealDate =
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    date.getUTCHours() === hour &&
    date.getUTCMinutes() === minute &&
    date.getUTCSeconds() === second;
  return isRealDate ? { ok: true, epochMs } : { ok: false, message: `${FORMAT_HINT} (not a real date or time)` };
}
