import { resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { findQueryStartProblem } from '../../domain/read-only-sql.ts';
import type { SourceError, SourceErrorContext } from '../errors.ts';
import type {
  AccessReport,
  ActivationSource,
  KeyedRow,
  ReadLimits,
  ReadRowsOptions,
  ScanRange,
  ScanReadOptions,
  SegmentSource,
  SourceColumn,
  SourceRef,
  SourceShape,
} from '../types.ts';
import { accessReport, guardRoot, setupText } from './access.ts';
import { describeFilesError } from './errors.ts';
import type { EngineSettings } from './instance.ts';
import { parseRoot, type FilesRoot } from './location.ts';
import { copySegmentFingerprints, copySegmentKeys, describeSource, readRowsByKeys } from './read.ts';
import { missingFilesSuggestion } from './suggest.ts';

/**
 * A warehouse of CSV and Parquet files, read through DuckDB: a local folder (or a mounted volume)
 * or a prefix in S3-compatible object storage. Segments are `files` sources (a file, a glob, or a
 * folder of an export's part files, relative to the root) or DuckDB SQL queries over
 * `read_csv('…')` / `read_parquet('…')` with paths relative to the root. Every read runs in a
 * DuckDB instance of its own, locked to the root (see instance.ts); DuckDB itself is loaded only
 * when a first read needs it.
 */

/** The product's own folders, which a root must not hold: its checkout (code, configuration, dev data) and where it runs. */
const OWN_FOLDERS = [...new Set([resolve(import.meta.dirname, '..', '..', '..'), process.cwd()])];

export interface FilesSourceOptions {
  env: NodeJS.ProcessEnv;
  /** the variable that configures the warehouse, for messages and its credentials' variables */
  variable: string;
  /** how long past the statement timeout a read that did not stop is waited for */
  clientMarginMs?: number;
}

class FilesSource implements SegmentSource {
  readonly engine = 'files';
  readonly readerName = undefined;
  private readonly settings: EngineSettings;

  constructor(
    readonly name: string,
    readonly root: FilesRoot,
    private readonly options: FilesSourceOptions,
  ) {
    this.settings = { root, env: options.env, ...(options.clientMarginMs === undefined ? {} : { clientMarginMs: options.clientMarginMs }) };
  }

  /** Checked before every read, as a database engine checks its role: the root is there and reaches no more than it should. */
  private guard(): Promise<void> {
    return guardRoot(this.root, this.options.variable, OWN_FOLDERS);
  }

  async describe(source: SourceRef, limits: ReadLimits): Promise<SourceColumn[]> {
    await this.guard();
    return await describeSource(this.settings, source, limits);
  }

  async copyKeys(shape: SourceShape, range: ScanRange, limits: ReadLimits, sink: Writable, options: ScanReadOptions): Promise<void> {
    await this.guard();
    await copySegmentKeys(this.settings, shape, range, limits, sink, options);
  }

  async copyFingerprints(shape: SourceShape, range: ScanRange, limits: ReadLimits, sink: Writable, options: ScanReadOptions): Promise<void> {
    await this.guard();
    await copySegmentFingerprints(this.settings, shape, range, limits, sink, options);
  }

  async readRows(
    shape: SourceShape,
    keys: readonly string[],
    limits: ReadLimits,
    options: ReadRowsOptions = {},
  ): Promise<Map<string, KeyedRow>> {
    await this.guard();
    return await readRowsByKeys(this.settings, shape, keys, limits, options);
  }

  async checkAccess(): Promise<AccessReport> {
    const report = accessReport(this.root, this.options.env, this.options.variable, OWN_FOLDERS);
    // A root that is missing or unreadable is a warehouse out of reach, said as such.
    if (report.problems.length === 0) await this.guard();
    return report;
  }

  setupSql(options: { sources: readonly ActivationSource[] }): string {
    return setupText(this.root, this.name, this.options.variable, options.sources);
  }

  describeError(error: unknown, context: SourceErrorContext): SourceError {
    return describeFilesError(error, context, this.root, context.urlVariable ?? this.options.variable);
  }

  async suggestSource(source: SourceRef, limits: ReadLimits): Promise<string | undefined> {
    return await missingFilesSuggestion(this.settings, source, { statementTimeoutMs: Math.min(limits.statementTimeoutMs, 15_000) });
  }

  checkQuery(sql: string): string | undefined {
    // DuckDB's parser is the guard (prepare refuses a second statement; the query is a subquery); this is the early word.
    return findQueryStartProblem(sql);
  }

  close(): Promise<void> {
    // Every read opens and closes its own DuckDB instance: nothing is held between reads.
    return Promise.resolve();
  }
}

/** A warehouse of CSV and Parquet files, read through DuckDB. */
export function createFilesSource(name: string, url: string, options: FilesSourceOptions): SegmentSource {
  return new FilesSource(name, parseRoot(url, options.variable), options);
}
