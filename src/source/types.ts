import type { Writable } from 'node:stream';
import type { SourceError, SourceErrorContext } from './errors.ts';

/**
 * What the product asks of a warehouse engine (Postgres, files through DuckDB, MySQL/MariaDB):
 * describe a segment's columns, stream the keys (and cursor values) of a scan range, stream
 * fingerprints, read full rows by key, check what its connection may reach, print the setup that
 * fixes it, and turn its errors into the product's. Detection is the app database's: an engine
 * only streams keys into it. Nothing outside an engine's folder knows its driver, types or SQL.
 */

/** What kind of values a column holds, in the product's terms; each engine maps its own types. */
export type ColumnKind =
  | 'text'
  | 'integer'
  | 'decimal'
  | 'float'
  | 'boolean'
  | 'uuid'
  | 'date'
  /** a timestamp without time zone: read as UTC */
  | 'timestamp'
  | 'timestamptz'
  | 'json'
  | 'binary'
  | 'array'
  | 'other';

export interface SourceColumn {
  name: string;
  kind: ColumnKind;
  /** as the engine names the type, for messages: `integer`, `character varying`, `BIGINT UNSIGNED` */
  typeName: string;
  /** the engine's own identification of the type (Postgres: its OID); only that engine reads it */
  native: number | string;
}

export interface CsvOptions {
  /** one character; detected when absent */
  delimiter?: string | undefined;
  /** whether the first line names the columns (default true) */
  header?: boolean | undefined;
  /** the quote character (default `"`) */
  quote?: string | undefined;
  /** `utf-8`, `latin-1` or `utf-16` (default utf-8; a BOM is skipped) */
  encoding?: string | undefined;
}

export type SourceRef =
  | { kind: 'table' | 'view'; schema: string; name: string }
  | { kind: 'query'; sql: string }
  /** files of a warehouse that reads files: one file, a glob, or a folder of an export, relative to its root */
  | { kind: 'files'; format: 'csv' | 'parquet'; path: string; csv?: CsvOptions };

/** A table or view of a database warehouse. */
export type TableRef = Extract<SourceRef, { kind: 'table' | 'view' }>;

export function isTableRef(source: SourceRef): source is TableRef {
  return source.kind === 'table' || source.kind === 'view';
}

/** What a scan needs to know about the source, resolved against its real columns. */
export interface SourceShape {
  source: SourceRef;
  primaryKey: readonly SourceColumn[];
  /** distinct source columns that feed invitation fields, in a stable order */
  mappedColumns: readonly string[];
  cursor?: SourceColumn;
}

/** Limits that every segment read runs under; the statement timeout is the activation's own. */
export interface ReadLimits {
  statementTimeoutMs: number;
}

/** What a read reports while it works, so a caller can prove progress (heartbeats). */
export interface ReadProgress {
  /** bytes received from the warehouse by this read so far */
  bytes: number;
  /** epoch ms of the last sign of life: a statement sent, data received, a statement done */
  lastActivityAt: number;
  /** a statement is waiting for the warehouse */
  waiting: boolean;
}

export interface ScanRange {
  /** scan only rows whose cursor is at or after this ISO timestamp (and rows without one) */
  cursorSince?: string;
}

export interface ScanReadOptions {
  /** at most this many rows are read; the caller sees one more when the segment has more */
  maxRows: number;
  onProgress?: (progress: ReadProgress) => void;
}

export interface KeyedRow {
  rowKey: string;
  fingerprint: string;
  /** the mapped columns, as the driver parses them; only the row-building code reads them */
  values: Record<string, unknown>;
}

/** An activation's id and what it reads, for the setup of its reader. */
export interface ActivationSource {
  id: string;
  source: SourceRef;
}

/** What a warehouse connection may do beyond reading what it was granted, and how to take it away. */
export interface AccessReport {
  /** who the connection reads as (a role, a user, a directory) */
  identity: string;
  /** where (a database, a server, a root folder) */
  location: string;
  problems: string[];
  /** each problem with the statements that take it away */
  findings: { problem: string; fix: readonly string[] }[];
}

/** How a keyed read reads: only the fingerprints (a rejected row's check), and who hears of its progress. */
export interface ReadRowsOptions {
  fingerprintsOnly?: boolean;
  onProgress?: (progress: ReadProgress) => void;
}

/**
 * One warehouse, read by one engine. Row streams are Postgres COPY text: one row per line, columns
 * separated by a tab, `\N` for NULL, backslash, tab, newline and carriage return escaped; the app
 * database loads them as they are.
 */
export interface SegmentSource {
  readonly engine: 'postgres' | 'files' | 'mysql';
  /** the warehouse's name in the configuration (`default` for WAREHOUSE_DATABASE_URL) */
  readonly name: string;
  /** the identity segments are read as, for messages and grants; undefined when the engine has none */
  readonly readerName: string | undefined;
  /** the source's columns, as the reader sees them; reads no row */
  describe(source: SourceRef, limits: ReadLimits): Promise<SourceColumn[]>;
  /** the row key and cursor value (ISO text in UTC) of every row in the range, at most maxRows + 1 */
  copyKeys(shape: SourceShape, range: ScanRange, limits: ReadLimits, sink: Writable, options: ScanReadOptions): Promise<void>;
  /** the row key and fingerprint of every row in the range that has a key, at most maxRows + 1 */
  copyFingerprints(shape: SourceShape, range: ScanRange, limits: ReadLimits, sink: Writable, options: ScanReadOptions): Promise<void>;
  /** the mapped columns (or only the fingerprints) of the rows with these keys; a repeated key yields its first row */
  readRows(
    shape: SourceShape,
    keys: readonly string[],
    limits: ReadLimits,
    options?: ReadRowsOptions,
  ): Promise<Map<string, KeyedRow>>;
  /** what the connection may do beyond reading; checked at start, at validate and apply, and before every read */
  checkAccess(options?: { appRole?: string }): Promise<AccessReport>;
  /** the statements that set up a least-privilege reader for these activations (`cli reader-sql`) */
  setupSql(options: { sources: readonly ActivationSource[]; perActivation?: boolean; role?: string; database?: string }): string;
  /** an engine's error as the product's: a message that names configuration only, and whether retrying can help */
  describeError(error: unknown, context: SourceErrorContext): SourceError;
  /** "did you mean" for a source that does not exist, when the engine can list what exists */
  suggestSource?(source: SourceRef, limits: ReadLimits): Promise<string | undefined>;
  /** an early, friendly word on a query in the engine's dialect (the server is the guard); undefined when it looks fine */
  checkQuery?(sql: string): string | undefined;
  /** the statements that let `reader` read this source, for validate's advice when a read is refused */
  grantAdvice?(source: SourceRef, reader: string): string | undefined;
  /** releases what the engine holds (connections, a database instance) */
  close(): Promise<void>;
}

/** Why a column cannot serve as (part of) the primary key, or undefined when it can. */
export function keyColumnProblem(column: SourceColumn): string | undefined {
  if (['json', 'binary', 'float', 'array', 'other'].includes(column.kind)) {
    return `primary key column '${column.name}' is of type ${column.typeName}, which cannot identify rows reliably; use text, an integer, uuid, a date or a timestamp`;
  }
  return undefined;
}

/** Why a column cannot serve as the cursor, or undefined when it can. */
export function cursorColumnProblem(column: SourceColumn): string | undefined {
  if (column.kind === 'timestamp' || column.kind === 'timestamptz' || column.kind === 'date') return undefined;
  return `cursor column '${column.name}' is of type ${column.typeName}; a cursor must be a date or timestamp column (its look-back is a duration)`;
}

/** The parts of a row key, in primary-key order: one column's text, or a JSON array of texts. */
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

/** The warehouses a process can read, by name (`default` for WAREHOUSE_DATABASE_URL). */
export interface WarehouseLookup {
  /** throws a PublicError naming the variable to set when the name is not configured */
  get(name?: string): SegmentSource;
}
