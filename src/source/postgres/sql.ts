import { sql, type RawBuilder } from 'kysely';
import { normalizeSegmentSql } from '../../domain/read-only-sql.ts';
import { rowKeyParts, type ColumnKind, type SourceColumn, type SourceRef } from '../types.ts';

/**
 * How a segment's columns are read: its primary key as the ledger's row key, a fingerprint of the
 * mapped values, and the cursor column. Everything here is SQL evaluated by the warehouse, so that
 * the whole segment never travels to the worker and every process computes the same key.
 */

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

/** Types whose text form casts back to the same value, so a key can be looked up through the column's index. */
const EXACT_TEXT_TYPES = new Set<number>([OID.text, OID.varchar, OID.int2, OID.int4, OID.int8, OID.numeric, OID.uuid, OID.bool]);

const KINDS: ReadonlyMap<number, ColumnKind> = new Map<number, ColumnKind>([
  [OID.bool, 'boolean'],
  [OID.bytea, 'binary'],
  [OID.int8, 'integer'],
  [OID.int2, 'integer'],
  [OID.int4, 'integer'],
  [OID.text, 'text'],
  [OID.json, 'json'],
  [OID.float4, 'float'],
  [OID.float8, 'float'],
  [OID.bpchar, 'text'],
  [OID.varchar, 'text'],
  [OID.date, 'date'],
  [OID.timestamp, 'timestamp'],
  [OID.timestamptz, 'timestamptz'],
  [OID.numeric, 'decimal'],
  [OID.uuid, 'uuid'],
  [OID.jsonb, 'json'],
]);

/** A Postgres type in the product's terms; enums, domains over text and the like read as text. */
export function kindOfPostgresType(oid: number, typeName: string): ColumnKind {
  const known = KINDS.get(oid);
  if (known) return known;
  if (typeName.endsWith('[]')) return 'array';
  // Enums, citext, domains and other user types: their text form identifies them like text.
  return 'text';
}

function oidOf(column: SourceColumn): number {
  return typeof column.native === 'number' ? column.native : Number(column.native);
}

export function sourceExpression(source: SourceRef): RawBuilder<unknown> {
  // The model's SQL is the marketer's own query; it runs as the reader role, read-only, with a
  // timeout, and reaches the server only in forms that carry one statement (see Warehouse).
  // The line breaks end a trailing `--` comment inside the parentheses, not after them.
  if (source.kind === 'query') return sql`(\n${sql.raw(normalizeSegmentSql(source.sql))}\n)`;
  if (source.kind === 'files') throw new Error('a Postgres warehouse reads tables, views and queries; files are read by a warehouse of files');
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
  switch (oidOf(part)) {
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
    oidOf(cursor) === OID.timestamptz
      ? sql`pg_catalog.to_char(${ref} at time zone 'UTC', ${sql.lit(iso)})`
      : oidOf(cursor) === OID.timestamp
        ? sql`pg_catalog.to_char(${ref}, ${sql.lit(iso)})`
        : sql`pg_catalog.to_char(${ref}, ${sql.lit('YYYY-MM-DD"T00:00:00.000000Z"')})`;
  return sql`case when pg_catalog.isfinite(${ref}) then ${text} else ${ref}::text end`;
}

/**
 * Narrows a lookup of `keys` so the warehouse can use the key's index: each part that casts back
 * exactly from its text is compared in its own type. The exact comparison on the row key follows.
 */
export function keyLookupCondition(primaryKey: readonly SourceColumn[], keys: readonly string[]): RawBuilder<unknown> {
  const exact = sql`${rowKeyExpression(primaryKey)} = any(${[...keys]}::text[])`;
  const indexable = primaryKey.map((part, index) => ({ part, index })).filter(({ part }) => EXACT_TEXT_TYPES.has(oidOf(part)));
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
