const DURATION = /^(?:\d+[dhms])+$/;
const DURATION_PART = /(\d+)([dhms])/g;
const UNIT_MILLISECONDS: Readonly<Record<string, number>> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000 };

/**
 * Converts a compact duration ('30s', '5m', '2h', '1d', or combined like '1h30m') into
 * milliseconds. Zero ('0s') is allowed here; schemas decide their own minimum.
 * Throws on anything else so that a typo in a schedule never becomes a silent default.
 */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (!DURATION.test(trimmed)) {
    throw new Error(`invalid duration '${text}': use a number followed by s, m, h or d, e.g. '30s', '5m', '2h', '1d'`);
  }
  let milliseconds = 0;
  for (const [, amount, unit] of trimmed.matchAll(DURATION_PART)) {
    milliseconds += Number(amount) * (UNIT_MILLISECONDS[unit ?? ''] ?? 0);
  }
  if (!Number.isSafeInteger(milliseconds)) throw new Error(`invalid duration '${text}': too long`);
  return milliseconds;
}

/** The same check as a predicate, for schema refinements. */
export function isDuration(text: string): boolean {
  try {
    parseDuration(text);
    return true;
  } catch {
    return false;
  }
}
