import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { DuckDBConnection, DuckDBPreparedStatement } from '@duckdb/node-api';
import { copyLine } from '../copy-text.ts';
import type { KeyedRow, ReadLimits, ReadRowsOptions, ScanRange, ScanReadOptions, SourceColumn, SourceRef, SourceShape } from '../types.ts';
import { duckdb, withDuckDb, type EngineSettings, type FilesSession } from './instance.ts';
import { csvTypes, FilesChanged, tableExpression, unchanged, type TableExpression } from './sources.ts';
import { column, cursorCondition, cursorText, fingerprintExpression, kindOfDuckDbType, rowKeyExpression } from './sql.ts';

const ROW_KEY_FIELD = '__tpi_row_key';
const FINGERPRINT_FIELD = '__tpi_fingerprint';

function isCsv(source: SourceRef): boolean {
  return source.kind === 'files' && source.format === 'csv';
}

/** Prepares one statement: DuckDB refuses a text that holds more than one. */
async function prepare<T>(connection: DuckDBConnection, sql: string, use: (prepared: DuckDBPreparedStatement) => Promise<T>): Promise<T> {
  const prepared = await connection.prepare(sql);
  try {
    return await use(prepared);
  } finally {
    prepared.destroySync();
  }
}

/**
 * Reads the files under a check that they did not change meanwhile: an export rewritten during
 * the read fails it (transient), so what was read is one version of the files.
 */
async function consistent<T>(table: TableExpression, read: () => Promise<T>): Promise<T> {
  try {
    const result = await read();
    if (table.files && !(await unchanged(table.files))) throw new FilesChanged();
    return result;
  } catch (error) {
    if (table.files && !(error instanceof FilesChanged) && !(await unchanged(table.files))) throw new FilesChanged();
    throw error;
  }
}

/** The source's columns, from DuckDB's binding of the query: no row is read (a CSV's types are detected from a sample). */
export async function describeSource(settings: EngineSettings, source: SourceRef, limits: ReadLimits): Promise<SourceColumn[]> {
  return await withDuckDb(settings, limits, async ({ connection }) => {
    const table = await tableExpression(connection, settings.root, source);
    return await prepare(connection, `SELECT * FROM ${table.sql} AS src LIMIT 0`, (prepared) => {
      const columns: SourceColumn[] = [];
      for (let index = 0; index < prepared.columnCount; index++) {
        const type = prepared.columnType(index);
        const typeName = type.toString();
        columns.push({ name: prepared.columnName(index), kind: kindOfDuckDbType(typeName, type.alias), typeName, native: typeName });
      }
      return Promise.resolve(columns);
    });
  });
}

function readTypes(shape: SourceShape): Map<string, string> {
  if (!isCsv(shape.source)) return new Map();
  return csvTypes(shape.primaryKey.map((part) => part.name), shape.mappedColumns, shape.cursor);
}

/** Whether the cursor is read as text (a CSV column that is also a key or a mapped column). */
function cursorAsText(shape: SourceShape, types: ReadonlyMap<string, string>): boolean {
  return shape.cursor !== undefined && types.get(shape.cursor.name) === 'VARCHAR';
}

/**
 * Streams the rows of `sql` (two text columns) into `sink` as COPY text, a DuckDB chunk (2,048
 * rows) at a time: the stream waits for the sink, so memory does not grow with the segment.
 */
async function streamPairs(session: FilesSession, table: TableExpression, sql: string, sink: Writable): Promise<void> {
  await consistent(table, () =>
    prepare(session.connection, sql, async (prepared) => {
      const result = await prepared.stream();
      async function* lines(): AsyncGenerator<Buffer> {
        for (;;) {
          session.report(0, true);
          const chunk = await result.fetchChunk();
          if (chunk === null || chunk.rowCount === 0) return;
          const first = chunk.getColumnVector(0);
          const second = chunk.getColumnVector(1);
          let text = '';
          for (let row = 0; row < chunk.rowCount; row++) {
            text += copyLine(first.getItem(row) as string | null, second.getItem(row) as string | null);
          }
          const bytes = Buffer.from(text, 'utf8');
          session.report(bytes.length, false);
          yield bytes;
        }
      }
      const source = Readable.from(lines(), { objectMode: false });
      // A failed read aborts the sink with a fixed reason: DuckDB's message may quote a value.
      source.once('error', () => sink.destroy(new Error('the segment could not be read')));
      await pipeline(source, sink);
    }),
  );
}

/** The row key and cursor value (ISO text in UTC) of every row in the range, at most maxRows + 1, as COPY text. */
export async function copySegmentKeys(settings: EngineSettings, shape: SourceShape, range: ScanRange, limits: ReadLimits, sink: Writable, options: ScanReadOptions): Promise<void> {
  await withDuckDb(
    settings,
    limits,
    async (session) => {
      const types = readTypes(shape);
      const table = await tableExpression(session.connection, settings.root, shape.source, types);
      const asText = cursorAsText(shape, types);
      const cursor = shape.cursor ? cursorText(shape.cursor, asText) : 'CAST(NULL AS VARCHAR)';
      const where = shape.cursor && range.cursorSince ? `WHERE ${cursorCondition(shape.cursor, range.cursorSince, asText)}` : '';
      const sql = `SELECT ${rowKeyExpression(shape.primaryKey, isCsv(shape.source))}, ${cursor} FROM ${table.sql} AS src ${where} LIMIT ${options.maxRows + 1}`;
      await streamPairs(session, table, sql, sink);
    },
    options.onProgress,
  );
}

/** The row key and fingerprint of every row in the range that has a key, at most maxRows + 1, as COPY text. */
export async function copySegmentFingerprints(settings: EngineSettings, shape: SourceShape, range: ScanRange, limits: ReadLimits, sink: Writable, options: ScanReadOptions): Promise<void> {
  await withDuckDb(
    settings,
    limits,
    async (session) => {
      const types = readTypes(shape);
      const table = await tableExpression(session.connection, settings.root, shape.source, types);
      const key = rowKeyExpression(shape.primaryKey, isCsv(shape.source));
      const conditions = [`(${key}) IS NOT NULL`];
      if (shape.cursor && range.cursorSince) conditions.push(cursorCondition(shape.cursor, range.cursorSince, cursorAsText(shape, types)));
      const sql = `SELECT ${key}, ${fingerprintExpression(shape.mappedColumns)} FROM ${table.sql} AS src WHERE ${conditions.join(' AND ')} LIMIT ${options.maxRows + 1}`;
      await streamPairs(session, table, sql, sink);
    },
    options.onProgress,
  );
}

/**
 * The mapped columns (or only the fingerprints) of the rows with these keys, as JS values (text as
 * strings, small integers as numbers, 64-bit ones as bigint, timestamps as Date). A key repeated in
 * the files yields its first row in the files' order.
 */
export async function readRowsByKeys(
  settings: EngineSettings,
  shape: SourceShape,
  keys: readonly string[],
  limits: ReadLimits,
  options: ReadRowsOptions = {},
): Promise<Map<string, KeyedRow>> {
  const rows = new Map<string, KeyedRow>();
  if (keys.length === 0) return rows;
  const { listValue, LIST, VARCHAR } = await duckdb();
  return await withDuckDb(
    settings,
    limits,
    async (session) => {
      const types = readTypes(shape);
      const table = await tableExpression(session.connection, settings.root, shape.source, types);
      const key = rowKeyExpression(shape.primaryKey, isCsv(shape.source));
      const mapped = options.fingerprintsOnly ? [] : shape.mappedColumns.map((name) => column(name));
      const sql = `SELECT ${[...mapped, `${key} AS ${ROW_KEY_FIELD}`, `${fingerprintExpression(shape.mappedColumns)} AS ${FINGERPRINT_FIELD}`].join(', ')}
        FROM ${table.sql} AS src WHERE (${key}) IN (SELECT unnest($1))`;
      const found = await consistent(table, () =>
        prepare(session.connection, sql, async (prepared) => {
          prepared.bind([listValue([...keys])], [LIST(VARCHAR)]);
          const reader = await prepared.runAndReadAll();
          session.report(0, false);
          return reader.getRowObjectsJS();
        }),
      );
      for (const row of found) {
        const rowKey = row[ROW_KEY_FIELD];
        const fingerprint = row[FINGERPRINT_FIELD];
        if (typeof rowKey !== 'string' || typeof fingerprint !== 'string' || rows.has(rowKey)) continue;
        const values: Record<string, unknown> = { ...row };
        delete values[ROW_KEY_FIELD];
        delete values[FINGERPRINT_FIELD];
        rows.set(rowKey, { rowKey, fingerprint, values });
      }
      return rows;
    },
    options.onProgress,
  );
}
