import type { Writable } from 'node:stream';
import { findQueryStartProblem } from '../../domain/read-only-sql.ts';
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
import { MySqlWarehouse } from './connection.ts';
import { describeMySqlError } from './errors.ts';
import { mySqlQueryProblem } from './query-text.ts';
import { copySegmentFingerprints, copySegmentKeys, describeSource, readRowsByKeys } from './read.ts';
import { grantAdviceSql, readerUserSql } from './setup.ts';
import { missingSourceSuggestion } from './suggest.ts';

export { MySqlWarehouse, MySqlReadTimeout, PINNED_SQL_MODE } from './connection.ts';

/**
 * A MySQL or MariaDB warehouse (the shop databases of WooCommerce, Magento, PrestaShop), read as
 * a least-privilege user; connection.ts says how each read is guarded. In MySQL a source's
 * `schema` is its database.
 */
export class MySqlSource implements SegmentSource {
  readonly engine = 'mysql';
  readonly warehouse: MySqlWarehouse;
  /** the account the server matched at the last check (`reader`@`%`), for exact GRANT advice */
  private account: string | undefined;

  constructor(
    readonly name: string,
    url: string,
    private readonly variable: string,
    options: { clientMarginMs?: number } = {},
  ) {
    this.warehouse = new MySqlWarehouse(url, options);
  }

  get readerName(): string | undefined {
    return this.account ?? this.warehouse.user;
  }

  describe(source: SourceRef, limits: ReadLimits): Promise<SourceColumn[]> {
    return describeSource(this.warehouse, source, limits);
  }

  copyKeys(shape: SourceShape, range: ScanRange, limits: ReadLimits, sink: Writable, options: ScanReadOptions): Promise<void> {
    return copySegmentKeys(this.warehouse, shape, range, limits, sink, options);
  }

  copyFingerprints(shape: SourceShape, range: ScanRange, limits: ReadLimits, sink: Writable, options: ScanReadOptions): Promise<void> {
    return copySegmentFingerprints(this.warehouse, shape, range, limits, sink, options);
  }

  readRows(
    shape: SourceShape,
    keys: readonly string[],
    limits: ReadLimits,
    options: ReadRowsOptions = {},
  ): Promise<Map<string, KeyedRow>> {
    return readRowsByKeys(this.warehouse, shape, keys, limits, options);
  }

  /** The app database is Postgres: no MySQL user can be its role, so `appRole` has nothing to compare with here. */
  async checkAccess(): Promise<AccessReport> {
    const { inspectAccess } = await import('./access.ts');
    try {
      const report = await this.warehouse.read({ statementTimeoutMs: 15_000 }, (session) => inspectAccess(session), { checkAccess: false });
      this.account = report.identity;
      return report;
    } catch (error) {
      throw this.describeError(error, { subject: 'the warehouse', urlVariable: this.variable });
    }
  }

  setupSql(options: { sources: readonly ActivationSource[]; perActivation?: boolean; role?: string; database?: string }): string {
    return readerUserSql({
      database: options.database ?? this.warehouse.database ?? '<database>',
      sources: options.sources,
      variable: this.variable,
      ...(options.role === undefined ? {} : { role: options.role }),
      ...(options.perActivation ? { perActivation: true } : {}),
    });
  }

  describeError(error: unknown, context: SourceErrorContext): SourceError {
    return describeMySqlError(error, { urlVariable: this.variable, ...context });
  }

  async suggestSource(source: SourceRef): Promise<string | undefined> {
    return isTableRef(source) ? await missingSourceSuggestion(this.warehouse, source) : undefined;
  }

  checkQuery(sql: string): string | undefined {
    return findQueryStartProblem(sql) ?? mySqlQueryProblem(sql);
  }

  grantAdvice(source: SourceRef, reader: string): string | undefined {
    return grantAdviceSql(source, reader);
  }

  close(): Promise<void> {
    // Every read opens and closes its own connection: nothing is held between reads.
    return Promise.resolve();
  }
}

/** A MySQL or MariaDB warehouse, read as a least-privilege user. */
export function createMySqlSource(name: string, url: string, options: { appRole?: string; variable: string }): SegmentSource {
  return new MySqlSource(name, url, options.variable);
}
