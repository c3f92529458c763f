import { ReadStopped } from '../errors.ts';
import type { ColumnKind, SourceColumn, SourceRef } from '../types.ts';
import type { MySqlField } from './driver.ts';
import { mySqlForbiddenUse, trimMySqlStatement } from './query-text.ts';

/**
 * How a segment's columns are read in MySQL SQL: each key part as its canonical text (the same
 * text every engine gives: see copy-text.ts), the cursor as ISO text in UTC, a fingerprint of the
 * mapped values. Built by the server, in a session pinned to UTC, utf8mb4 and a fixed sql_mode.
 */

/** A value the driver returned as text: strings as they are, numbers and buffers as their text, NULL as null. */
export function textOf(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** `name` as a MySQL identifier. */
export function quoteId(name: string): string {
  return `\`${name.replaceAll('`', '``')}\``;
}

/**
 * `text` as a MySQL string literal. Valid because every session pins a sql_mode without
 * NO_BACKSLASH_ESCAPES (connection.ts) before it runs anything built here. The driver's own
 * placeholders are never used: a `?` in a segment's SQL would be taken for one.
 */
export function quoteString(text: string): string {
  // eslint-disable-next-line no-control-regex
  return `'${text.replace(/[\0\b\t\n\r\x1a'"\\]/g, (char) => ESCAPES[char] ?? char)}'`;
}

const ESCAPES: Readonly<Record<string, string>> = { '\0': '\\0', '\b': '\\b', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\x1a': '\\Z', "'": "\\'", '"': '\\"', '\\': '\\\\' };

/** The protocol's type codes (MYSQL_TYPE_*), the same in MySQL and MariaDB. */
const TYPE = {
  decimal: 0, tiny: 1, short: 2, long: 3, float: 4, double: 5, null: 6, timestamp: 7, longlong: 8, int24: 9, date: 10, time: 11,
  datetime: 12, year: 13, newdate: 14, varchar: 15, bit: 16, timestamp2: 17, datetime2: 18, time2: 19, vector: 242, json: 245,
  newdecimal: 246, enum: 247, set: 248, tinyBlob: 249, mediumBlob: 250, longBlob: 251, blob: 252, varString: 253, string: 254, geometry: 255,
} as const;
const UNSIGNED_FLAG = 32;
const ENUM_FLAG = 256;
const SET_FLAG = 2048;
const BINARY_CHARSET = 63;

const INTEGERS: Readonly<Record<number, string>> = { [TYPE.tiny]: 'TINYINT', [TYPE.short]: 'SMALLINT', [TYPE.int24]: 'MEDIUMINT', [TYPE.long]: 'INT', [TYPE.longlong]: 'BIGINT' };

/** A column of a result set in the product's terms, with the type as MySQL names it. */
export function columnOf(field: MySqlField): SourceColumn {
  const { kind, typeName } = kindOf(field);
  return { name: field.name, kind, typeName, native: field.columnType };
}

function kindOf(field: MySqlField): { kind: ColumnKind; typeName: string } {
  const type = field.columnType;
  const binary = field.characterSet === BINARY_CHARSET;
  const extended = field.extendedTypeName?.toLowerCase();
  if (extended === 'uuid') return { kind: 'uuid', typeName: 'UUID' };
  if (extended !== undefined && extended !== '') return { kind: 'other', typeName: extended.toUpperCase() };
  if (field.extendedFormat?.toLowerCase() === 'json') return { kind: 'json', typeName: 'JSON' };
  const integer = INTEGERS[type];
  if (integer !== undefined) {
    // TINYINT(1) is how MySQL spells BOOLEAN.
    if (type === TYPE.tiny && field.columnLength === 1) return { kind: 'boolean', typeName: 'TINYINT(1)' };
    return { kind: 'integer', typeName: (field.flags & UNSIGNED_FLAG) !== 0 ? `${integer} UNSIGNED` : integer };
  }
  switch (type) {
    case TYPE.year:
      return { kind: 'integer', typeName: 'YEAR' };
    case TYPE.decimal:
    case TYPE.newdecimal:
      return { kind: 'decimal', typeName: 'DECIMAL' };
    case TYPE.float:
      return { kind: 'float', typeName: 'FLOAT' };
    case TYPE.double:
      return { kind: 'float', typeName: 'DOUBLE' };
    case TYPE.date:
    case TYPE.newdate:
      return { kind: 'date', typeName: 'DATE' };
    case TYPE.datetime:
    case TYPE.datetime2:
      return { kind: 'timestamp', typeName: 'DATETIME' };
    case TYPE.timestamp:
    case TYPE.timestamp2:
      // Stored in UTC and shown in the session's time zone, which every read pins to UTC.
      return { kind: 'timestamptz', typeName: 'TIMESTAMP' };
    case TYPE.json:
      return { kind: 'json', typeName: 'JSON' };
    case TYPE.varchar:
    case TYPE.varString:
      return binary ? { kind: 'binary', typeName: 'VARBINARY' } : { kind: 'text', typeName: 'VARCHAR' };
    case TYPE.string:
      if ((field.flags & ENUM_FLAG) !== 0) return { kind: 'text', typeName: 'ENUM' };
      if ((field.flags & SET_FLAG) !== 0) return { kind: 'text', typeName: 'SET' };
      return binary ? { kind: 'binary', typeName: 'BINARY' } : { kind: 'text', typeName: 'CHAR' };
    case TYPE.enum:
      return { kind: 'text', typeName: 'ENUM' };
    case TYPE.set:
      return { kind: 'text', typeName: 'SET' };
    case TYPE.tinyBlob:
    case TYPE.mediumBlob:
    case TYPE.longBlob:
    case TYPE.blob:
      return binary ? { kind: 'binary', typeName: 'BLOB' } : { kind: 'text', typeName: 'TEXT' };
    case TYPE.time:
    case TYPE.time2:
      return { kind: 'other', typeName: 'TIME' };
    case TYPE.bit:
      return { kind: 'other', typeName: 'BIT' };
    case TYPE.geometry:
      return { kind: 'other', typeName: 'GEOMETRY' };
    case TYPE.vector:
      return { kind: 'other', typeName: 'VECTOR' };
    case TYPE.null:
      return { kind: 'other', typeName: 'NULL' };
    default:
      return { kind: 'other', typeName: `type ${type}` };
  }
}

/** A segment's query that reaches for files or locks: refused before it is sent, with the product's own words. */
export class MySqlQueryRefused extends ReadStopped {
  override readonly name = 'MySqlQueryRefused';
  constructor(what: string) {
    super(`the segment's query uses ${what}, which a segment may not: remove it from source.sql`, 'permanent');
  }
}

/** The segment as a FROM item: a table or view by its quoted name, or the query in parentheses. */
export function sourceExpression(source: SourceRef): string {
  if (source.kind === 'files') throw new Error('a MySQL warehouse reads tables, views and queries; files are read by a warehouse of files');
  const forbidden = source.kind === 'query' ? mySqlForbiddenUse(source.sql) : undefined;
  if (forbidden !== undefined) throw new MySqlQueryRefused(forbidden);
  // The line breaks end a trailing `--` or `#` comment inside the parentheses, not after them.
  if (source.kind === 'query') return `(\n${trimMySqlStatement(source.sql)}\n)`;
  return `${quoteId(source.schema)}.${quoteId(source.name)}`;
}

export function column(name: string): string {
  return `\`src\`.${quoteId(name)}`;
}

/** A date MySQL accepts but no calendar has (`0000-00-00`, `2024-00-10`): it has no ISO form. */
function invalidDate(ref: string): string {
  return `(YEAR(${ref}) = 0 OR MONTH(${ref}) = 0 OR DAYOFMONTH(${ref}) = 0)`;
}

/**
 * One key column as its canonical text: integers and decimals in plain decimal (from the
 * server's own text, so BIGINT UNSIGNED stays exact), TINYINT(1) as `true`/`false`, dates and
 * timestamps in ISO with milliseconds in UTC, text as it is. A zero date keeps MySQL's own digits
 * (`0000-00-00T00:00:00.000Z`): a key of its own, never a crash.
 */
export function keyPartExpression(part: SourceColumn): string {
  const ref = column(part.name);
  switch (part.kind) {
    case 'integer':
    case 'decimal':
      return `CAST(${ref} AS CHAR)`;
    case 'boolean':
      return `CASE ${ref} WHEN 0 THEN 'false' WHEN 1 THEN 'true' ELSE CAST(${ref} AS CHAR) END`;
    case 'uuid':
      return `LOWER(CAST(${ref} AS CHAR))`;
    case 'date':
      return `DATE_FORMAT(${ref}, '%Y-%m-%dT00:00:00.000Z')`;
    case 'timestamp':
    case 'timestamptz':
      return `CONCAT(LEFT(DATE_FORMAT(${ref}, '%Y-%m-%dT%H:%i:%s.%f'), 23), 'Z')`;
    default:
      return ref;
  }
}

/**
 * The cursor as ISO text in UTC with microseconds. A zero date has no instant: it reads as no
 * cursor value (such rows are scanned by every run, like NULL ones).
 */
export function cursorExpression(cursor: SourceColumn): string {
  const ref = column(cursor.name);
  const format = cursor.kind === 'date' ? '%Y-%m-%dT00:00:00.000000Z' : '%Y-%m-%dT%H:%i:%s.%fZ';
  return `CASE WHEN ${invalidDate(ref)} THEN NULL ELSE DATE_FORMAT(${ref}, '${format}') END`;
}

/** An ISO instant from the app as a DATETIME(6) literal in UTC. */
export function datetimeLiteral(iso: string): string {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?)\d*(?:Z|[+-]00:?00)$/.exec(iso);
  const text = match ? `${match[1]} ${match[2]}` : new Date(iso).toISOString().replace('T', ' ').replace('Z', '');
  return `CAST(${quoteString(text)} AS DATETIME(6))`;
}

/** Rows whose cursor is at or after `since`, and rows without a usable cursor value. */
export function cursorCondition(cursor: SourceColumn, since: string): string {
  const ref = column(cursor.name);
  return `(${ref} >= ${datetimeLiteral(since)} OR ${ref} IS NULL OR ${invalidDate(ref)})`;
}

/**
 * A hash of the mapped values: each value's bytes, length-prefixed so that no two rows' values
 * run together into the same text. As bytes, values of different character sets and collations
 * meet without an "illegal mix of collations".
 */
export function fingerprintExpression(mappedColumns: readonly string[]): string {
  const parts = mappedColumns.map((name) => {
    const bytes = `CAST(${column(name)} AS BINARY)`;
    return `IFNULL(CONCAT(OCTET_LENGTH(${bytes}), ':', ${bytes}), 'N')`;
  });
  return parts.length === 0 ? `MD5('')` : `MD5(CONCAT(${parts.join(`, ',', `)}))`;
}

const INTEGER_TEXT = /^-?\d{1,20}$/;
const DECIMAL_TEXT = /^-?\d{1,65}(?:\.\d{1,30})?$/;

/**
 * One key part's value as the server compares it: the column itself for text, integers and
 * decimals (so its index serves the lookup), the canonical text otherwise. Undefined when the text
 * cannot be a value of the column: that key matches no row.
 */
function lookupValue(part: SourceColumn, text: string): string | undefined {
  if (part.kind === 'integer') return INTEGER_TEXT.test(text) ? text : undefined;
  if (part.kind === 'decimal') return DECIMAL_TEXT.test(text) ? text : undefined;
  return quoteString(text);
}

function lookupTarget(part: SourceColumn): string {
  return part.kind === 'text' || part.kind === 'integer' || part.kind === 'decimal' ? column(part.name) : keyPartExpression(part);
}

/**
 * A condition that finds the rows of these keys (given as their parts), through the key's index
 * where the column is compared as itself. A case-insensitive collation finds more rows than asked
 * for; the caller keeps only rows whose key text is exactly one asked for.
 */
export function keyLookupCondition(primaryKey: readonly SourceColumn[], keys: readonly (readonly string[])[]): string | undefined {
  const tuples: string[] = [];
  for (const parts of keys) {
    const values = primaryKey.map((part, index) => lookupValue(part, parts[index] ?? ''));
    if (values.some((value) => value === undefined)) continue;
    tuples.push(primaryKey.length === 1 ? (values[0] ?? '') : `(${values.join(', ')})`);
  }
  if (tuples.length === 0) return undefined;
  const targets = primaryKey.map(lookupTarget);
  return primaryKey.length === 1 ? `${targets[0] ?? ''} IN (${tuples.join(', ')})` : `(${targets.join(', ')}) IN (${tuples.join(', ')})`;
}
