import type { ColumnKind, SourceColumn } from '../types.ts';

/**
 * How a segment's columns are read, in DuckDB SQL: its primary key as the ledger's row key, the
 * cursor as ISO text in UTC, and a fingerprint of the mapped values. The texts are the ones every
 * engine produces (copy-text.ts): DuckDB builds them, so no value passes through a JS number.
 */

/** DuckDB's type names (as its types print) in the product's terms. */
export function kindOfDuckDbType(typeName: string, alias?: string): ColumnKind {
  if (alias?.toUpperCase() === 'JSON') return 'json';
  const name = typeName.toUpperCase();
  if (name.endsWith('[]') || /^[A-Z_ ]+\[\d+\]$/.test(name)) return 'array';
  if (/^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT)$/.test(name)) return 'integer';
  if (name.startsWith('DECIMAL')) return 'decimal';
  if (name === 'FLOAT' || name === 'DOUBLE') return 'float';
  if (name === 'VARCHAR' || name.startsWith('ENUM(')) return 'text';
  if (name === 'BOOLEAN') return 'boolean';
  if (name === 'UUID') return 'uuid';
  if (name === 'DATE') return 'date';
  if (/^TIMESTAMP(_S|_MS|_NS)?$/.test(name)) return 'timestamp';
  if (name === 'TIMESTAMP WITH TIME ZONE') return 'timestamptz';
  if (name === 'BLOB' || name === 'BIT') return 'binary';
  return 'other';
}

export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

export function column(name: string): string {
  return `src.${ident(name)}`;
}

const ISO_MILLIS = '%Y-%m-%dT%H:%M:%S.%gZ';
const ISO_MICROS = '%Y-%m-%dT%H:%M:%S.%fZ';
/** What a CSV cell must look like to be keyed as an integer, or as a date or timestamp (ISO, no zone or with one). */
// Leading zeros are part of the text (`0042` and `42` are two order numbers), so such a cell is kept as written.
const INTEGER_TEXT = '^-?(0|[1-9][0-9]{0,37})$';
const ISO_TEXT = '^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,9})?)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?$';

/**
 * A CSV key cell as its canonical key: read as text (a CSV has no types, and DuckDB's detected
 * type can change when one odd value arrives), a cell that is an integer or an ISO date or
 * timestamp is keyed in the canonical form of that type, anything else as written. So a key is
 * the same whatever type its column was detected as, and a stray value that changes the
 * detection does not change every other row's key.
 */
function csvKeyPart(ref: string): string {
  return `CASE
    WHEN regexp_full_match(${ref}, '${INTEGER_TEXT}') THEN CAST(CAST(${ref} AS HUGEINT) AS VARCHAR)
    WHEN regexp_full_match(${ref}, '${ISO_TEXT}') AND TRY_CAST(${ref} AS TIMESTAMPTZ) IS NOT NULL
      THEN strftime(timezone('UTC', TRY_CAST(${ref} AS TIMESTAMPTZ)), '${ISO_MILLIS}')
    ELSE ${ref} END`;
}

/** One key column as its canonical text (copy-text.ts); ±infinity keeps its own text. */
function keyPart(part: SourceColumn, csv: boolean): string {
  const ref = column(part.name);
  if (csv) return csvKeyPart(ref);
  const finiteOr = (iso: string) => `CASE WHEN isfinite(${ref}) THEN ${iso} ELSE CAST(${ref} AS VARCHAR) END`;
  switch (part.kind) {
    case 'timestamptz':
      return finiteOr(`strftime(timezone('UTC', ${ref}), '${ISO_MILLIS}')`);
    case 'timestamp':
      return finiteOr(`strftime(CAST(${ref} AS TIMESTAMP), '${ISO_MILLIS}')`);
    case 'date':
      return finiteOr(`strftime(${ref}, '%Y-%m-%dT00:00:00.000Z')`);
    default:
      return `CAST(${ref} AS VARCHAR)`;
  }
}

/** The ledger's row key: one column's text, or a compact JSON array of the texts; NULL when any part is NULL. */
export function rowKeyExpression(primaryKey: readonly SourceColumn[], csv: boolean): string {
  const [only] = primaryKey;
  if (primaryKey.length === 1 && only) return keyPart(only, csv);
  const anyNull = primaryKey.map((part) => `${column(part.name)} IS NULL`).join(' OR ');
  return `CASE WHEN ${anyNull} THEN NULL ELSE CAST(to_json([${primaryKey.map((part) => keyPart(part, csv)).join(', ')}]) AS VARCHAR) END`;
}

/** A hash of the mapped values, each as text, NULL kept apart from the text 'null'. */
export function fingerprintExpression(mappedColumns: readonly string[]): string {
  return `md5(CAST(to_json([${mappedColumns.map((name) => `CAST(${column(name)} AS VARCHAR)`).join(', ')}]) AS VARCHAR))`;
}

/**
 * The cursor as ISO text in UTC with microseconds (a timestamp without time zone read as UTC).
 * `asText`: the column is read as text (a CSV column that is also a key or a mapped column).
 */
export function cursorText(cursor: SourceColumn, asText: boolean): string {
  const ref = column(cursor.name);
  if (asText) return `strftime(timezone('UTC', TRY_CAST(${ref} AS TIMESTAMPTZ)), '${ISO_MICROS}')`;
  const iso =
    cursor.kind === 'timestamptz'
      ? `strftime(timezone('UTC', ${ref}), '${ISO_MICROS}')`
      : cursor.kind === 'timestamp'
        ? `strftime(CAST(${ref} AS TIMESTAMP), '${ISO_MICROS}')`
        : `strftime(${ref}, '%Y-%m-%dT00:00:00.000000Z')`;
  return `CASE WHEN isfinite(${ref}) THEN ${iso} ELSE CAST(${ref} AS VARCHAR) END`;
}

/**
 * Rows whose cursor is at or after `since`, and rows without one. The bound is cast to the
 * column's own type, so Parquet statistics can skip row groups.
 */
export function cursorCondition(cursor: SourceColumn, since: string, asText: boolean): string {
  const ref = column(cursor.name);
  const bound = `CAST(${literal(since)} AS TIMESTAMPTZ)`;
  if (asText) return `(TRY_CAST(${ref} AS TIMESTAMPTZ) >= ${bound} OR TRY_CAST(${ref} AS TIMESTAMPTZ) IS NULL)`;
  const typed =
    cursor.kind === 'timestamptz'
      ? bound
      : cursor.kind === 'timestamp'
        ? `CAST(timezone('UTC', ${bound}) AS ${cursor.typeName})`
        : `CAST(timezone('UTC', ${bound}) AS DATE)`;
  return `(${ref} >= ${typed} OR ${ref} IS NULL)`;
}
