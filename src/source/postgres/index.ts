import type { Writable } from 'node:stream';
import { findReadOnlySqlProblem } from '../../domain/read-only-sql.ts';
import type { SourceError, SourceErrorContext } from '../errors.ts';
import {
  isTableRef,
  type AccessReport,
  type ActivationSource,
  type KeyedRow,
  type ReadLimits,
  type ReadRowsOptions,
  type ScanRange,
  type ScanReadOptions,
  type SegmentSource,
  type SourceColumn,
  type SourceRef,
  type SourceShape,
} from '../types.ts';
import { PostgresWarehouse, type WarehouseOptions } from './connection.ts';
import { describePostgresError } from './errors.ts';
import { copySegmentFingerprints, copySegmentKeys, describeSource, readRowsByKeys } from './read.ts';
import { readerRoleProblems, readerRoleSql } from './reader-role.ts';
import { missingSourceSuggestion } from './suggest.ts';

export { PostgresWarehouse, type WarehouseOptions } from './connection.ts';

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A Postgres warehouse, read as its least-privilege reader role (see connection.ts for how each read is guarded). */
export class PostgresSource implements SegmentSource {
  readonly engine = 'postgres';
  readonly connection: PostgresWarehouse;

  constructor(
    readonly name: string,
    url: string,
    options: WarehouseOptions = {},
  ) {
    this.connection = new PostgresWarehouse(url, options);
  }

  get readerName(): string | undefined {
    return this.connection.role;
  }

  /** the database segments are read from, as the URL names it */
  get database(): string | undefined {
    try {
      const path = new URL(this.connection.url).pathname.replace(/^\//, '');
      return path === '' ? undefined : decodeURIComponent(path);
    } catch {
      return undefined;
    }
  }

  describe(source: SourceRef, limits: ReadLimits): Promise<SourceColumn[]> {
    return describeSource(this.connection, source, limits);
  }

  copyKeys(shape: SourceShape, range: ScanRange, limits: ReadLimits, sink: Writable, options: ScanReadOptions): Promise<void> {
    return copySegmentKeys(this.connection, shape, range, limits, sink, options);
  }

  copyFingerprints(shape: SourceShape, range: ScanRange, limits: ReadLimits, sink: Writable, options: ScanReadOptions): Promise<void> {
    return copySegmentFingerprints(this.connection, shape, range, limits, sink, options);
  }

  readRows(
    shape: SourceShape,
    keys: readonly string[],
    limits: ReadLimits,
    options: ReadRowsOptions = {},
  ): Promise<Map<string, KeyedRow>> {
    return readRowsByKeys(this.connection, shape, keys, limits, options);
  }

  async checkAccess(options: { appRole?: string } = {}): Promise<AccessReport> {
    const appRole = options.appRole ?? this.connection.appRole;
    const report = await readerRoleProblems(this.connection, appRole === undefined ? {} : { appRole });
    return { identity: report.role, location: report.database, problems: report.problems, findings: report.findings };
  }

  setupSql(options: { sources: readonly ActivationSource[]; perActivation?: boolean; role?: string; database?: string }): string {
    const database = options.database ?? this.database ?? '<database>';
    return readerRoleSql({
      database,
      sources: options.sources.map((entry) => entry.source),
      ...(options.role === undefined ? {} : { role: options.role }),
      ...(options.perActivation ? { perActivation: options.sources } : {}),
    });
  }

  describeError(error: unknown, context: SourceErrorContext): SourceError {
    return describePostgresError(error, context);
  }

  async suggestSource(source: SourceRef): Promise<string | undefined> {
    return isTableRef(source) ? await missingSourceSuggestion(this.connection, source, 'relation') : undefined;
  }

  checkQuery(sql: string): string | undefined {
    return findReadOnlySqlProblem(sql);
  }

  /** The statements that let `role` read a table or view (validate's advice for a refused read). */
  grantAdvice(source: SourceRef, role: string): string | undefined {
    if (!isTableRef(source)) return undefined;
    const quoted = quoteIdent(role);
    return `GRANT USAGE ON SCHEMA ${quoteIdent(source.schema)} TO ${quoted}; GRANT SELECT ON ${quoteIdent(source.schema)}.${quoteIdent(source.name)} TO ${quoted};`;
  }

  close(): Promise<void> {
    // Every read opens and closes its own connection: nothing is held between reads.
    return Promise.resolve();
  }
}
