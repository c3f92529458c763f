import { createHash } from 'node:crypto';

/** A primary-key value in a form that survives JSON (runs.scan_after) and compares the same way in SQL. */
export type KeyValue = string | number | boolean | null;

export function toKeyValue(value: unknown): KeyValue {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return JSON.stringify(value);
}

/**
 * The ledger's identity of a source row: the primary key's value for a single-column key,
 * a JSON array of the values for a composite key. Stable across runs and processes.
 */
export function rowKeyOf(row: Record<string, unknown>, primaryKey: readonly string[]): string {
  const values = primaryKey.map((column) => toKeyValue(row[column]));
  if (values.length === 1) return String(values[0]);
  return JSON.stringify(values.map((value) => (value === null ? null : String(value))));
}

/** Hash of the values an invitation is built from; tells whether a rejected row was fixed. */
export function fingerprintOf(values: Record<string, unknown>): string {
  const canonical = JSON.stringify(
    Object.keys(values)
      .sort()
      .map((key) => [key, normalizeForFingerprint(values[key])]),
  );
  return createHash('sha256').update(canonical).digest('base64url');
}

function normalizeForFingerprint(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map(normalizeForFingerprint);
  return value ?? null;
}

/** The later of two cursor values (ISO timestamps or numbers); the watermark only moves forward. */
export function laterCursorValue(current: KeyValue, candidate: KeyValue): KeyValue {
  if (candidate === null) return current;
  if (current === null) return candidate;
  if (typeof candidate === 'number' && typeof current === 'number') return Math.max(candidate, current);
  const a = Date.parse(String(current));
  const b = Date.parse(String(candidate));
  if (!Number.isNaN(a) && !Number.isNaN(b)) return b > a ? candidate : current;
  return String(candidate) > String(current) ? candidate : current;
}
