import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sql } from 'kysely';
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { compile, compileWithoutParameters } from '../db/compile.ts';
import {
  column,
  cursorCondition,
  cursorExpression,
  fingerprintExpression,
  keyLookupCondition,
  rowKeyExpression,
  sourceExpression,
  type SourceColumn,
  type SourceRef,
  type SourceShape,
} from './shape.ts';
import type { ReadLimits, Warehouse } from './warehouse.ts';

/** The source's columns, as the reader role sees them (a missing grant fails here with 42501). */
export async function describeSource(warehouse: Warehouse, source: SourceRef, limits: ReadLimits): Promise<SourceColumn[]> {
  return await warehouse.read(limits, async (client) => {
    const query = compile(sql`select * from ${sourceExpression(source)} as src limit 0`);
    const result = await client.query({ text: query.sql, values: [...query.parameters] });
    const oids = [...new Set(result.fields.map((field) => field.dataTypeID))];
    const types = await client.query<{ oid: number; name: string }>('select oid::int as oid, format_type(oid, null) as name from pg_type where oid = any($1::oid[])', [oids]);
    const typeNames = new Map(types.rows.map((row) => [row.oid, row.name]));
    return result.fields.map((field) => ({ name: field.name, typeOid: field.dataTypeID, typeName: typeNames.get(field.dataTypeID) ?? `type ${field.dataTypeID}` }));
  });
}

export interface ScanRange {
  /** scan only rows whose cursor is at or after this ISO timestamp (and rows without one) */
  cursorSince?: string;
}

/**
 * Streams what identifies each row of the segment (its row key and cursor value, as COPY text)
 * into `sink`, in one pass and without parsing a row in this process.
 */
export async function copySegmentKeys(
  warehouse: Warehouse,
  shape: SourceShape,
  range: ScanRange,
  limits: ReadLimits,
  sink: Writable,
): Promise<void> {
  const cursorValue = shape.cursor ? cursorExpression(shape.cursor) : sql`null::timestamptz`;
  const where = shape.cursor && range.cursorSince ? sql`where ${cursorCondition(shape.cursor, range.cursorSince)}` : sql``;
  const query = compileWithoutParameters(
    sql`select ${rowKeyExpression(shape.primaryKey)}, ${cursorValue} from ${sourceExpression(shape.source)} as src ${where}`,
  );
  await warehouse.read(limits, (client) => copyInto(client, query, sink));
}

/**
 * Pipes a COPY out of the warehouse into `sink`. When the warehouse fails, the sink (a COPY into
 * the app database) is aborted with a fixed reason first: the warehouse's own message may quote a
 * row's value and would otherwise travel to the app database's server log.
 */
async function copyInto(client: pg.Client, query: string, sink: Writable): Promise<void> {
  const source = client.query(copyTo(`copy (${query}) to stdout`));
  source.once('error', () => sink.destroy(new Error('the segment could not be read')));
  await pipeline(source, sink);
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
): Promise<void> {
  const key = rowKeyExpression(shape.primaryKey);
  const conditions = [sql`${key} is not null`];
  if (shape.cursor && range.cursorSince) conditions.push(cursorCondition(shape.cursor, range.cursorSince));
  const query = compileWithoutParameters(
    sql`select ${key}, ${fingerprintExpression(shape.mappedColumns)} from ${sourceExpression(shape.source)} as src where ${sql.join(conditions, sql` and `)}`,
  );
  await warehouse.read(limits, (client) => copyInto(client, query, sink));
}

export const ROW_KEY_FIELD = '__tpi_row_key';
export const FINGERPRINT_FIELD = '__tpi_fingerprint';

export interface KeyedRow {
  rowKey: string;
  fingerprint: string;
  /** the mapped columns, as the driver parses them; only the row-building code reads them */
  values: Record<string, unknown>;
}

/**
 * Reads the rows with these keys: their mapped columns (or only their fingerprints). A key that
 * appears more than once in the segment yields its first row in the warehouse's order.
 */
export async function readRowsByKeys(
  warehouse: Warehouse,
  shape: SourceShape,
  keys: readonly string[],
  limits: ReadLimits,
  options: { fingerprintsOnly?: boolean } = {},
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
  const result = await warehouse.read(limits, (client: pg.Client) =>
    client.query<Record<string, unknown>>({ text: query.sql, values: [...query.parameters] }),
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
