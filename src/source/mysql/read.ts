import type { Writable } from 'node:stream';
import { compositeKey, copyLine } from '../copy-text.ts';
import { rowKeyParts, type KeyedRow, type ReadLimits, type ReadRowsOptions, type ScanRange, type ScanReadOptions, type SourceColumn, type SourceRef, type SourceShape } from '../types.ts';
import type { MySqlWarehouse } from './connection.ts';
import { column, columnOf, textOf, cursorCondition, cursorExpression, fingerprintExpression, keyLookupCondition, keyPartExpression, sourceExpression } from './sql.ts';

/** Keys looked up per statement when full rows are read by key. */
const LOOKUP_BATCH = 500;

/** The source's columns, as the reader sees them (a missing grant fails here). Reads no row. */
export async function describeSource(warehouse: MySqlWarehouse, source: SourceRef, limits: ReadLimits): Promise<SourceColumn[]> {
  return await warehouse.read(limits, async (session) => {
    const { fields } = await session.queryArrays(`SELECT * FROM ${sourceExpression(source)} AS \`src\` LIMIT 0`);
    return fields.map(columnOf);
  });
}

/** The row key of a row's key parts (the first `length` values), or null when a part is NULL. */
function rowKeyOf(row: readonly unknown[], length: number): string | null {
  if (length === 1) return textOf(row[0]);
  return compositeKey(row.slice(0, length).map(textOf));
}

function scanSql(shape: SourceShape, range: ScanRange, second: string, options: ScanReadOptions, keyed: boolean): string {
  const conditions: string[] = [];
  if (keyed) conditions.push(...shape.primaryKey.map((part) => `${column(part.name)} IS NOT NULL`));
  if (shape.cursor && range.cursorSince) conditions.push(cursorCondition(shape.cursor, range.cursorSince));
  const where = conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '';
  const select = [...shape.primaryKey.map(keyPartExpression), second].join(', ');
  return `SELECT ${select} FROM ${sourceExpression(shape.source)} AS \`src\`${where} LIMIT ${options.maxRows + 1}`;
}

/**
 * Streams the row key and cursor value (ISO text in UTC) of every row in the range into `sink` as
 * COPY text, a row at a time: memory stays bounded whatever the segment's size. At most
 * `maxRows + 1` rows: the caller tells a segment over the cap by the extra one.
 */
export async function copySegmentKeys(
  warehouse: MySqlWarehouse,
  shape: SourceShape,
  range: ScanRange,
  limits: ReadLimits,
  sink: Writable,
  options: ScanReadOptions,
): Promise<void> {
  const length = shape.primaryKey.length;
  const cursor = shape.cursor ? cursorExpression(shape.cursor) : 'NULL';
  const statement = scanSql(shape, range, cursor, options, false);
  await warehouse.read(
    limits,
    (session) => session.stream(statement, (row) => copyLine(rowKeyOf(row, length), textOf(row[length])), sink),
    options.onProgress ? { onProgress: options.onProgress } : {},
  );
}

/** Streams the row key and fingerprint of every row in the range that has a key, as COPY text. */
export async function copySegmentFingerprints(
  warehouse: MySqlWarehouse,
  shape: SourceShape,
  range: ScanRange,
  limits: ReadLimits,
  sink: Writable,
  options: ScanReadOptions,
): Promise<void> {
  const length = shape.primaryKey.length;
  const statement = scanSql(shape, range, fingerprintExpression(shape.mappedColumns), options, true);
  await warehouse.read(
    limits,
    (session) =>
      session.stream(
        statement,
        (row) => {
          const key = rowKeyOf(row, length);
          return key === null ? undefined : copyLine(key, textOf(row[length]));
        },
        sink,
      ),
    options.onProgress ? { onProgress: options.onProgress } : {},
  );
}

/**
 * Reads the rows with these keys, `LOOKUP_BATCH` keys per statement in one read: their mapped
 * columns (or only their fingerprints). Only rows whose key text is exactly one asked for count
 * (a case-insensitive collation also finds `ABC` for `abc`); a key that appears more than once
 * yields its first row.
 */
export async function readRowsByKeys(
  warehouse: MySqlWarehouse,
  shape: SourceShape,
  keys: readonly string[],
  limits: ReadLimits,
  options: ReadRowsOptions = {},
): Promise<Map<string, KeyedRow>> {
  const rows = new Map<string, KeyedRow>();
  if (keys.length === 0) return rows;
  const length = shape.primaryKey.length;
  const wanted = new Set(keys);
  const mapped = options.fingerprintsOnly ? [] : shape.mappedColumns;
  const select = [
    ...shape.primaryKey.map(keyPartExpression),
    fingerprintExpression(shape.mappedColumns),
    ...mapped.map((name) => column(name)),
  ].join(', ');
  const statements: string[] = [];
  for (let start = 0; start < keys.length; start += LOOKUP_BATCH) {
    const batch = keys.slice(start, start + LOOKUP_BATCH).map((key) => rowKeyParts(key, length));
    const condition = keyLookupCondition(shape.primaryKey, batch);
    if (condition !== undefined) statements.push(`SELECT ${select} FROM ${sourceExpression(shape.source)} AS \`src\` WHERE ${condition}`);
  }
  if (statements.length === 0) return rows;
  await warehouse.read(
    limits,
    async (session) => {
      for (const statement of statements) {
        const result = await session.queryArrays(statement);
        for (const row of result.rows) {
          const rowKey = rowKeyOf(row, length);
          const fingerprint = textOf(row[length]);
          if (rowKey === null || fingerprint === null || !wanted.has(rowKey) || rows.has(rowKey)) continue;
          const values: Record<string, unknown> = {};
          mapped.forEach((name, index) => {
            values[name] = row[length + 1 + index];
          });
          rows.set(rowKey, { rowKey, fingerprint, values });
        }
      }
    },
    options.onProgress ? { onProgress: options.onProgress } : {},
  );
  return rows;
}
