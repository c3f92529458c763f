import type { Writable } from 'node:stream';
import { sql } from 'kysely';
import { compile, compileWithoutParameters } from './compile.ts';
import {
  column,
  cursorCondition,
  cursorText,
  fingerprintExpression,
  keyLookupCondition,
  kindOfPostgresType,
  rowKeyExpression,
  sourceExpression,
} from './sql.ts';
import type { KeyedRow, ReadLimits, ReadRowsOptions, ScanRange, ScanReadOptions, SourceColumn, SourceRef, SourceShape } from '../types.ts';
import type { PostgresWarehouse as Warehouse } from './connection.ts';

/** The source's columns, as the reader role sees them (a missing grant fails here with 42501). */
export async function describeSource(warehouse: Warehouse, source: SourceRef, limits: ReadLimits): Promise<SourceColumn[]> {
  return await warehouse.read(limits, async (session) => {
    const result = await session.query(compile(sql`select * from ${sourceExpression(source)} as src limit 0`));
    const oids = [...new Set(result.fields.map((field) => field.dataTypeID))];
    const types = await session.query<{ oid: number; name: string }>(
      compile(sql`select oid::int as oid, format_type(oid, null) as name from pg_catalog.pg_type where oid = any(${oids}::oid[])`),
    );
    const typeNames = new Map(types.rows.map((row) => [row.oid, row.name]));
    return result.fields.map((field) => {
      const typeName = typeNames.get(field.dataTypeID) ?? `type ${field.dataTypeID}`;
      return { name: field.name, kind: kindOfPostgresType(field.dataTypeID, typeName), typeName, native: field.dataTypeID };
    });
  });
}


/**
 * Streams what identifies each row of the segment (its row key and cursor value, as COPY text)
 * into `sink`, in one pass and without parsing a row in this process. Reads at most
 * `maxRows + 1` rows: the caller tells a segment over the cap by the extra one.
 */
export async function copySegmentKeys(
  warehouse: Warehouse,
  shape: SourceShape,
  range: ScanRange,
  limits: ReadLimits,
  sink: Writable,
  options: ScanReadOptions,
): Promise<void> {
  const cursorValue = shape.cursor ? cursorText(shape.cursor) : sql`null::text`;
  const where = shape.cursor && range.cursorSince ? sql`where ${cursorCondition(shape.cursor, range.cursorSince)}` : sql``;
  const select = compileWithoutParameters(
    sql`select ${rowKeyExpression(shape.primaryKey)}, ${cursorValue} from ${sourceExpression(shape.source)} as src ${where} limit ${sql.lit(options.maxRows + 1)}`,
  );
  await warehouse.read(limits, (session) => session.copyOut(select, sink), options.onProgress ? { onProgress: options.onProgress } : {});
}

/**
 * Streams the row key and fingerprint of every row in the scan range into `sink` (COPY text):
 * how many rejected rows changed, when too many of them are in the segment to look up by key.
 */
export async function copySegmentFingerprints(
  warehouse: Warehouse,
  shape: SourceShape,
  range: ScanRange,
  limits: ReadLimits,
  sink: Writable,
  options: ScanReadOptions,
): Promise<void> {
  const key = rowKeyExpression(shape.primaryKey);
  const conditions = [sql`${key} is not null`];
  if (shape.cursor && range.cursorSince) conditions.push(cursorCondition(shape.cursor, range.cursorSince));
  const select = compileWithoutParameters(
    sql`select ${key}, ${fingerprintExpression(shape.mappedColumns)} from ${sourceExpression(shape.source)} as src where ${sql.join(conditions, sql` and `)} limit ${sql.lit(options.maxRows + 1)}`,
  );
  await warehouse.read(limits, (session) => session.copyOut(select, sink), options.onProgress ? { onProgress: options.onProgress } : {});
}

export const ROW_KEY_FIELD = '__tpi_row_key';
export const FINGERPRINT_FIELD = '__tpi_fingerprint';


/**
 * Reads the rows with these keys: their mapped columns (or only their fingerprints). A key that
 * appears more than once in the segment yields its first row in the warehouse's order.
 */
export async function readRowsByKeys(
  warehouse: Warehouse,
  shape: SourceShape,
  keys: readonly string[],
  limits: ReadLimits,
  options: ReadRowsOptions = {},
): Promise<Map<string, KeyedRow>> {
  const rows = new Map<string, KeyedRow>();
  if (keys.length === 0) return rows;
  const mapped = options.fingerprintsOnly ? [] : shape.mappedColumns.map((name) => column(name));
  const query = compile(
    sql<Record<string, unknown>>`select ${sql.join([
      ...mapped,
      sql`${rowKeyExpression(shape.primaryKey)} as ${sql.id(ROW_KEY_FIELD)}`,
      sql`${fingerprintExpression(shape.mappedColumns)} as ${sql.id(FINGERPRINT_FIELD)}`,
    ])} from ${sourceExpression(shape.source)} as src where ${keyLookupCondition(shape.primaryKey, keys)}`,
  );
  const result = await warehouse.read(
    limits,
    (session) => session.query<Record<string, unknown>>(query),
    options.onProgress ? { onProgress: options.onProgress } : {},
  );
  for (const row of result.rows) {
    const rowKey = row[ROW_KEY_FIELD];
    const fingerprint = row[FINGERPRINT_FIELD];
    if (typeof rowKey !== 'string' || typeof fingerprint !== 'string' || rows.has(rowKey)) continue;
    const values = { ...row };
    delete values[ROW_KEY_FIELD];
    delete values[FINGERPRINT_FIELD];
    rows.set(rowKey, { rowKey, fingerprint, values });
  }
  return rows;
}
