import { stat } from 'node:fs/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import { normalizeSegmentSql } from '../../domain/read-only-sql.ts';
import { ReadStopped } from '../errors.ts';
import type { CsvOptions, SourceRef } from '../types.ts';
import { relativeToRoot, underRoot, type FilesRoot } from './location.ts';
import { rootedQuery } from './query-paths.ts';
import { literal } from './sql.ts';

/**
 * What a segment reads, as a DuckDB table expression: the files of a `files` source (one file, a
 * glob, or every data file of a folder, as warehouse exports write them), or the marketer's query
 * with its paths under the root.
 */

/** No file matches the configured path: validate suggests what does. */
export class FilesNotFound extends ReadStopped {
  override readonly name = 'FilesNotFound';
  constructor(readonly path: string, readonly format: string, folder: boolean) {
    super(folder ? `no .${format} file at or under '${path}' in the warehouse's root` : `no file matches '${path}' in the warehouse's root`, 'permanent');
  }
}

/** Every file of the source is empty (0 bytes): there is no header to name its columns, e.g. an export still being written. */
export class FilesEmpty extends ReadStopped {
  override readonly name = 'FilesEmpty';
  constructor(readonly path: string) {
    super(`the files at '${path}' are empty (0 bytes), so they name no columns: an export still being written? The next attempt reads them again`, 'transient');
  }
}

/** The files changed while they were read: what was read may mix two versions, so it is not used. */
export class FilesChanged extends ReadStopped {
  override readonly name = 'FilesChanged';
  constructor() {
    super('the files changed while they were read (an export being rewritten?): the read was discarded and the next attempt reads the new version', 'transient');
  }
}

const GLOB = /[*?[]/;
/** Part files of a data format, as warehouses and Spark write them (compressed CSV included). */
const EXTENSIONS: Record<'csv' | 'parquet', RegExp> = { csv: /\.(csv|tsv|txt)(\.gz|\.zst)?$/i, parquet: /\.parquet$/i };
/** CSV lines are read in buffers of this size (DuckDB's default of 16 MB would not fit its memory limit). */
const CSV_BUFFER_BYTES = 4 * 1024 * 1024;

export interface ResolvedFiles {
  files: string[];
  /** size, modification time and inode of each local file, to tell a file rewritten during the read */
  versions?: string[];
}

async function globFiles(connection: DuckDBConnection, pattern: string): Promise<string[]> {
  const prepared = await connection.prepare(`SELECT file FROM glob(${literal(pattern)}) ORDER BY file`);
  try {
    const reader = await prepared.runAndReadAll();
    return reader.getRows().map((row) => String(row[0]));
  } finally {
    prepared.destroySync();
  }
}

/** Hidden and bookkeeping entries (`_SUCCESS`, `_delta_log/`, `.part.crc`), unless the path names them itself. */
function isHidden(root: FilesRoot, file: string, configured: string): boolean {
  const named = new Set(configured.split('/'));
  return relativeToRoot(root, file)
    .split('/')
    .some((segment) => (segment.startsWith('_') || segment.startsWith('.')) && !named.has(segment));
}

async function localVersions(files: readonly string[]): Promise<{ kept: string[]; versions: string[] }> {
  const kept: string[] = [];
  const versions: string[] = [];
  for (const file of files) {
    const info = await stat(file).catch(() => undefined);
    if (info === undefined || info.size === 0) continue;
    kept.push(file);
    versions.push(`${file}\t${info.size}\t${info.mtimeMs}\t${info.ino}`);
  }
  return { kept, versions };
}

/** The files a `files` source reads, in a stable order; empty ones left out (a header-only CSV is not empty). */
export async function resolveFiles(connection: DuckDBConnection, root: FilesRoot, source: Extract<SourceRef, { kind: 'files' }>): Promise<ResolvedFiles> {
  const path = source.path.replace(/\/+$/, '');
  const absolute = underRoot(root, path);
  let files: string[];
  let folder = false;
  if (GLOB.test(path)) {
    files = (await globFiles(connection, absolute)).filter((file) => !isHidden(root, file, path));
  } else {
    // A trailing wildcard makes object storage list what is there (a plain path is echoed back unchecked).
    const exact = await globFiles(connection, `${absolute}*`);
    if (exact.includes(absolute)) files = [absolute];
    else {
      folder = true;
      files = (await globFiles(connection, `${absolute}/**`)).filter((file) => EXTENSIONS[source.format].test(file) && !isHidden(root, file, path));
    }
  }
  if (files.length === 0) throw new FilesNotFound(source.path, source.format, folder);
  if (root.kind !== 'local') return { files };
  const { kept, versions } = await localVersions(files);
  if (kept.length === 0) throw new FilesEmpty(source.path);
  return { files: kept, versions };
}

/** Whether the local files are still the ones read (same size, time and inode). */
export async function unchanged(resolved: ResolvedFiles): Promise<boolean> {
  if (resolved.versions === undefined) return true;
  const now = await localVersions(resolved.files);
  return now.versions.length === resolved.versions.length && now.versions.every((version, index) => version === resolved.versions?.[index]);
}

function csvOptions(csv: CsvOptions | undefined, types: ReadonlyMap<string, string>): string[] {
  const options = [`header = ${csv?.header ?? true}`, 'union_by_name = true', `buffer_size = ${CSV_BUFFER_BYTES}`];
  if (csv?.delimiter !== undefined) options.push(`delim = ${literal(csv.delimiter)}`);
  if (csv?.quote !== undefined) options.push(`quote = ${literal(csv.quote)}`);
  if (csv?.encoding !== undefined) options.push(`encoding = ${literal(csv.encoding)}`);
  if (types.size > 0) options.push(`types = {${[...types].map(([name, type]) => `${literal(name)}: ${literal(type)}`).join(', ')}}`);
  return options;
}

export interface TableExpression {
  /** a FROM item, to be aliased `src` */
  sql: string;
  files?: ResolvedFiles;
}

/**
 * The segment as a FROM item. `types`: for CSV, the DuckDB type each named column is read as (a
 * CSV's detected types can differ between reads; the columns the product reads must not).
 */
export async function tableExpression(
  connection: DuckDBConnection,
  root: FilesRoot,
  source: SourceRef,
  types: ReadonlyMap<string, string> = new Map(),
): Promise<TableExpression> {
  if (source.kind === 'query') {
    // The line breaks end a trailing `--` comment inside the parentheses, not after them.
    return { sql: `(\n${await rootedQuery(connection, root, normalizeSegmentSql(source.sql))}\n)` };
  }
  if (source.kind !== 'files') throw new Error('a files warehouse reads files and queries over them, not tables or views');
  const files = await resolveFiles(connection, root, source);
  const list = `[${files.files.map(literal).join(', ')}]`;
  const reader = source.format === 'csv' ? `read_csv(${list}, ${csvOptions(source.csv, types).join(', ')})` : `read_parquet(${list}, union_by_name = true)`;
  return { sql: reader, files };
}

/** The DuckDB type each CSV column the product reads is pinned to: text for keys and mapped values, the cursor's own type. */
export function csvTypes(keys: readonly string[], mapped: readonly string[], cursor: { name: string; typeName: string } | undefined): Map<string, string> {
  const types = new Map<string, string>();
  for (const name of [...keys, ...mapped]) types.set(name, 'VARCHAR');
  if (cursor !== undefined && !types.has(cursor.name)) types.set(cursor.name, cursor.typeName);
  return types;
}
