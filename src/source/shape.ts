import { sql, type RawBuilder } from 'kysely';
import { normalizeSegmentSql } from '../domain/read-only-sql.ts';

/**
 * How a segment's columns are read: its primary key as the ledger's row key, a fingerprint of the
 * mapped values, and the cursor column. Everything here is SQL evaluated by the warehouse, so that
 * the whole segment never travels to the worker and every process computes the same key.
 */

export type SourceRef =
  | { kind: 'table' | 'view'; schema: string; name: string }
  | { kind: 'query'; sql: string };

export interface SourceColumn {
  name: string;
  typeOid: number;
  /** as `format_type` prints it, e.g. `integer`, `character varying`, `public.order_status` */
  typeName: string;
}

/** What a scan needs to know about the source, resolved against its real columns. */
export interface SourceShape {
  source: SourceRef;
  primaryKey: readonly SourceColumn[];
  /** distinct source columns that feed invitation fields, in a stable order */
  mappedColumns: readonly string[];
  cursor?: SourceColumn;
}

// Type OIDs are fixed in every Postgres release (pg_type.dat).
const OID = {
  bool: 16,
  bytea: 17,
  int8: 20,
  int2: 21,
  int4: 23,
  text: 25,
  json: 114,
  float4: 700,
  float8: 701,
  bpchar: 1042,
  varchar: 1043,
  date: 1082,
  timestamp: 1114,
  timestamptz: 1184,
  numeric: 1700,
  uuid: 2950,
  jsonb: 3802,
} as const;

const TIME_TYPES = new Set<number>([OID.timestamp, OID.timestamptz, OID.date]);
/** Types whose text form casts back to the same value, so a key can be looked up through the column's index. */
const EXACT_TEXT_TYPES = new Set<number>([OID.text, OID.varchar, OID.int2, OID.int4, OID.int8, OID.numeric, OID.uuid, OID.bool]);
const UNUSABLE_KEY_TYPES = new Set<number>([OID.json, OID.jsonb, OID.bytea, OID.float4, OID.float8]);

/** Why a column cannot serve as (part of) the primary key, or undefined when it can. */
export function keyColumnProblem(column: SourceColumn): string | undefined {
  if (UNUSABLE_KEY_TYPES.has(column.typeOid) || column.typeName.endsWith('[]')) {
    return `primary key column '${column.name}' is of type ${column.typeName}, which cannot identify rows reliably; use text, an integer, uuid, a date or a timestamp`;
  }
  return undefined;
}

/** Why a column cannot serve as the cursor, or undefined when it can. */
export function cursorColumnProblem(column: SourceColumn): string | undefined {
  if (TIME_TYPES.has(column.typeOid)) return undefined;
  return `cursor column '${column.name}' is of type ${column.typeName}; a cursor must be a date or timestamp column (its look-back is a duration)`;
}

export function sourceExpression(source: SourceRef): RawBuilder<unknown> {
  // The model's SQL is the marketer's own query; it runs as the reader role, read-only, with a
  // timeout, and reaches the server only in forms that carry one statement (see Warehouse).
  // The line breaks end a trailing `--` comment inside the parentheses, not after them.
  if (source.kind === 'query') return sql`(\n${sql.raw(normalizeSegmentSql(source.sql))}\n)`;
  return sql.table(`${source.schema}.${source.name}`);
}

export function column(name: string): RawBuilder<unknown> {
  // sql.id quotes each part: a column named "a.b" stays one column.
  return sql.id('src', name);
}

const ISO_MILLIS = `YYYY-MM-DD"T"HH24:MI:SS.MS"Z"`;

/**
 * One key column as text. Timestamps use the ISO form with milliseconds in UTC (the reader's session
 * runs in UTC, so a timestamp without time zone is read as UTC); every other type its own text form.
 * This matches the keys that earlier versions recorded, so existing ledgers stay valid.
 */
function keyPart(part: SourceColumn): RawBuilder<unknown> {
  const ref = column(part.name);
  // ±infinity has no ISO form: its own text ('infinity') keeps it a key of its own.
  const finiteOr = (iso: RawBuilder<unknown>) => sql`case when pg_catalog.isfinite(${ref}) then ${iso} else ${ref}::text end`;
  switch (part.typeOid) {
    case OID.timestamptz:
      return finiteOr(sql`pg_catalog.to_char(${ref} at time zone 'UTC', ${sql.lit(ISO_MILLIS)})`);
    case OID.timestamp:
      return finiteOr(sql`pg_catalog.to_char(${ref}, ${sql.lit(ISO_MILLIS)})`);
    case OID.date:
      return finiteOr(sql`pg_catalog.to_char(${ref}, ${sql.lit('YYYY-MM-DD"T00:00:00.000Z"')})`);
    case OID.bpchar:
      // A cast to text drops char(n)'s padding; the driver (and so earlier ledgers) kept it.
      return sql`case when ${ref} is null then null else pg_catalog.format('%s', ${ref}) end`;
    default:
      return sql`${ref}::text`;
  }
}

/**
 * The ledger's row key: the key column's text for a one-column key, a compact JSON array of the
 * texts for a composite key. NULL when any key column is NULL: such a row cannot be tracked.
 */
export function rowKeyExpression(primaryKey: readonly SourceColumn[]): RawBuilder<string | null> {
  const [only] = primaryKey;
  if (primaryKey.length === 1 && only) return keyPart(only) as RawBuilder<string | null>;
  const anyNull = sql.join(primaryKey.map((part) => sql`${column(part.name)} is null`), sql` or `);
  const elements = sql.join(primaryKey.map((part) => sql`pg_catalog.to_json(${keyPart(part)})::text`), sql`, `);
  return sql<string | null>`case when ${anyNull} then null else '[' || pg_catalog.concat_ws(',', ${elements}) || ']' end`;
}

/** A hash of the mapped values: a rejected row is reconsidered only when it changes. */
export function fingerprintExpression(mappedColumns: readonly string[]): RawBuilder<string> {
  return sql<string>`pg_catalog.md5(row(${sql.join(mappedColumns.map((name) => column(name)))})::text)`;
}

/**
 * The cursor as ISO text in UTC, with microseconds: built by the warehouse whatever its session's
 * DateStyle, so the app database reads back exactly the instant (a timestamp without time zone is
 * read as UTC). ±infinity keeps its own text.
 */
export function cursorText(cursor: SourceColumn): RawBuilder<unknown> {
  const ref = column(cursor.name);
  const iso = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"';
  const text =
    cursor.typeOid === OID.timestamptz
      ? sql`pg_catalog.to_char(${ref} at time zone 'UTC', ${sql.lit(iso)})`
      : cursor.typeOid === OID.timestamp
        ? sql`pg_catalog.to_char(${ref}, ${sql.lit(iso)})`
        : sql`pg_catalog.to_char(${ref}, ${sql.lit('YYYY-MM-DD"T00:00:00.000000Z"')})`;
  return sql`case when pg_catalog.isfinite(${ref}) then ${text} else ${ref}::text end`;
}

/** The parts of a row key, in primary-key order. */
export function rowKeyParts(rowKey: string, keyLength: number): string[] {
  if (keyLength === 1) return [rowKey];
  let parts: unknown;
  try {
    parts = JSON.parse(rowKey) as unknown;
  } catch {
    // The key itself stays out of the message: it may be an email address.
    parts = undefined;
  }
  if (!Array.isArray(parts) || parts.length !== keyLength || !parts.every((part) => typeof part === 'string')) {
    throw new Error(`row key is not a JSON array of ${keyLength} texts`);
  }
  return parts;
}

/**
 * Narrows a lookup of `keys` so the warehouse can use the key's index: each part that casts back
 * exactly from its text is compared in its own type. The exact comparison on the row key follows.
 */
export function keyLookupCondition(primaryKey: readonly SourceColumn[], keys: readonly string[]): RawBuilder<unknown> {
  const exact = sql`${rowKeyExpression(primaryKey)} = any(${[...keys]}::text[])`;
  const indexable = primaryKey.map((part, index) => ({ part, index })).filter(({ part }) => EXACT_TEXT_TYPES.has(part.typeOid));
  if (indexable.length === 0) return exact;
  const parts = keys.map((key) => rowKeyParts(key, primaryKey.length));
  if (indexable.length === 1 && primaryKey.length === 1) {
    const [{ part }] = indexable as [{ part: SourceColumn; index: number }];
    return sql`${column(part.name)} = any(cast(${[...keys]}::text[] as ${sql.raw(part.typeName)}[])) and ${exact}`;
  }
  const tuple = sql.join(indexable.map(({ part }) => column(part.name)));
  const arrays = sql.join(indexable.map(({ index }) => sql`${parts.map((values) => values[index] as string)}::text[]`));
  const casts = sql.join(indexable.map(({ part }, position) => sql`${sql.id('k', `p${position}`)}::${sql.raw(part.typeName)}`));
  const names = sql.join(indexable.map((_, position) => sql.id(`p${position}`)));
  return sql`(${tuple}) in (select ${casts} from unnest(${arrays}) as k(${names})) and ${exact}`;
}

/** Rows whose cursor is at or after `since`, and rows without a cursor value (they cannot be placed in time). */
export function cursorCondition(cursor: SourceColumn, since: string): RawBuilder<unknown> {
  const ref = column(cursor.name);
  return sql`(${ref} >= ${sql.lit(since)}::timestamptz or ${ref} is null)`;
}
