import { sql, type RawBuilder } from 'kysely';
import type pg from 'pg';
import type { AppDb } from '../db/database.ts';
import { ReadStopped } from '../source/errors.ts';
import type { ReadLimits, ReadProgress, ScanRange, SegmentSource, SourceShape } from '../source/types.ts';
import { MAX_ROW_KEY_BYTES } from '../domain/run-summary.ts';
import { ChunkedCopyIn } from './chunked-copy.ts';

/**
 * What an operator allows one scan to take from the app database (SCAN_MAX_ROWS, SCAN_MAX_BYTES,
 * SCAN_TEMP_FILE_LIMIT): a segment that is, or turns into, a generator of billions of rows fails
 * its run instead of filling the app database's disk.
 */
export interface ScanLimits {
  maxRows: number;
  maxBytes: number;
  /** the session's temp_file_limit (sorts and hashes spilling to disk), as Postgres reads it, e.g. `4GB` */
  tempFileLimit: string;
}

export const DEFAULT_SCAN_LIMITS: ScanLimits = { maxRows: 25_000_000, maxBytes: 4 * 1024 ** 3, tempFileLimit: '4GB' };

/** Rejected rows looked up by key to see whether they changed; beyond this many, their fingerprints are streamed instead. */
const REJECTED_LOOKUP_LIMIT = 20_000;
const LOOKUP_CHUNK = 5_000;
const ISO_MILLIS = 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"';

export interface ScanStats {
  /** rows scanned, duplicates and rows without a key included */
  rows: number;
  /** distinct keys the ledger can hold (not NULL, not too long) */
  distinctKeys: number;
  /** rows that repeat a key counted in `distinctKeys`: only one row per key is tracked */
  duplicateKeys: number;
  nullKeys: number;
  /** rows whose key is longer than the ledger can hold (MAX_ROW_KEY_BYTES) */
  oversizedKeys: number;
  /** the highest cursor value scanned, as an ISO timestamp */
  maxCursor: string | null;
}

/**
 * One diff of a segment against an activation's ledger, in a session of the app database: the
 * segment's keys are streamed into session tables (`tpi_scan`, then `tpi_keys`: one row per key
 * with its number of copies), and the diff is SQL over them (findings.ts). Nothing here writes
 * the ledger; a run does, through findings.ts, in a `transaction` of this session. No app
 * transaction is open while the warehouse is read.
 */
export class ScanSession {
  private healthy = true;

  private tempFileLimitSet = false;

  private constructor(
    readonly client: pg.PoolClient,
    /** compiles the session's SQL in the app database's dialect (the session's connection is its pool's, driven directly) */
    private readonly db: AppDb,
    private readonly source: SegmentSource,
    private readonly shape: SourceShape,
    private readonly range: ScanRange,
    private readonly limits: ReadLimits,
    private readonly scanLimits: ScanLimits,
    private readonly onProgress: ((progress: ReadProgress) => void) | undefined,
  ) {}

  static async open(
    app: { pool: pg.Pool; db: AppDb },
    source: SegmentSource,
    shape: SourceShape,
    range: ScanRange,
    limits: ReadLimits,
    options: { scanLimits?: ScanLimits; onProgress?: (progress: ReadProgress) => void } = {},
  ): Promise<ScanSession> {
    const session = new ScanSession(await app.pool.connect(), app.db, source, shape, range, limits, options.scanLimits ?? DEFAULT_SCAN_LIMITS, options.onProgress);
    await session.limitTempFiles();
    return session;
  }

  /**
   * Bounds the disk the session's sorts and hashes may spill to. Postgres lets only a superuser,
   * or a role granted it (`GRANT SET ON PARAMETER temp_file_limit`, Postgres 15+), set it: without
   * that the scan goes on under the server's own limit, and `tempFileLimitApplied` says so.
   */
  private async limitTempFiles(): Promise<void> {
    try {
      await this.client.query(`select pg_catalog.set_config('temp_file_limit', $1, false)`, [this.scanLimits.tempFileLimit]);
      this.tempFileLimitSet = true;
    } catch {
      this.tempFileLimitSet = false;
    }
  }

  get tempFileLimitApplied(): boolean {
    return this.tempFileLimitSet;
  }

  async query<Row>(raw: RawBuilder<Row>): Promise<Row[]> {
    const compiled = raw.compile(this.db);
    const result = await this.client.query({ text: compiled.sql, values: [...compiled.parameters] });
    return result.rows as Row[];
  }

  /** Runs a statement for its effect; returns how many rows it touched. */
  async execute(raw: RawBuilder<unknown>): Promise<number> {
    const compiled = raw.compile(this.db);
    const result = await this.client.query({ text: compiled.sql, values: [...compiled.parameters] });
    return result.rowCount ?? 0;
  }

  /** Runs `work` in one transaction of the session; a rollback that fails retires the connection. */
  async transaction<T>(work: () => Promise<T>): Promise<T> {
    await this.client.query('begin');
    try {
      const result = await work();
      await this.client.query('commit');
      return result;
    } catch (error) {
      await this.client.query('rollback').catch(() => this.markBroken());
      throw error;
    }
  }

  private readOptions() {
    return { maxRows: this.scanLimits.maxRows, ...(this.onProgress ? { onProgress: this.onProgress } : {}) };
  }

  /**
   * Streams the keys in the scan range from the warehouse (by COPY, unparsed) and groups them.
   * Keys the ledger cannot hold (too long) are kept aside here, counted, and never reach it.
   */
  async load(): Promise<void> {
    try {
      await this.client.query('create temp table tpi_scan (row_key text, cursor_at timestamptz)');
      await this.source.copyKeys(
        this.shape,
        this.range,
        this.limits,
        new ChunkedCopyIn(this.client, 'copy tpi_scan from stdin', this.scanLimits.maxBytes),
        this.readOptions(),
      );
      const [scanned] = await this.query(sql<{ rows: number }>`select count(*)::int as rows from tpi_scan`);
      if ((scanned?.rows ?? 0) > this.scanLimits.maxRows) {
        throw new ReadStopped(
          `the segment has more than ${this.scanLimits.maxRows} rows in its scan range (SCAN_MAX_ROWS): narrow it with a cursor or a WHERE clause, or raise SCAN_MAX_ROWS`,
          'permanent',
        );
      }
      await this.client.query(
        `create temp table tpi_keys as
           select case when pg_catalog.octet_length(row_key) > ${MAX_ROW_KEY_BYTES} then null else row_key end as row_key,
                  count(*)::int as copies, max(cursor_at) as cursor_at,
                  coalesce(pg_catalog.octet_length(row_key) > ${MAX_ROW_KEY_BYTES}, false) as oversized
             from tpi_scan
            group by 1, 4`,
      );
      await this.client.query('analyze tpi_keys');
    } catch (error) {
      this.healthy = false;
      throw error;
    }
  }

  async stats(): Promise<ScanStats> {
    const [stats] = await this.query(
      sql<{ rows: number; distinct_keys: number; null_keys: number; oversized_keys: number; max_cursor: string | null }>`
        select coalesce(sum(copies), 0)::int as rows,
               count(row_key)::int as distinct_keys,
               coalesce(sum(copies) filter (where row_key is null and not oversized), 0)::int as null_keys,
               coalesce(sum(copies) filter (where oversized), 0)::int as oversized_keys,
               to_char(max(cursor_at) at time zone 'UTC', ${ISO_MILLIS}) as max_cursor
          from tpi_keys`,
    );
    const rows = stats?.rows ?? 0;
    const distinctKeys = stats?.distinct_keys ?? 0;
    const nullKeys = stats?.null_keys ?? 0;
    const oversizedKeys = stats?.oversized_keys ?? 0;
    return { rows, distinctKeys, duplicateKeys: rows - nullKeys - oversizedKeys - distinctKeys, nullKeys, oversizedKeys, maxCursor: stats?.max_cursor ?? null };
  }

  /** Ledger ids of rejected rows in the scan whose mapped values are no longer what was rejected. */
  async changedRejectedRows(activationId: string): Promise<number[]> {
    const rejected = await this.query(
      sql<{ id: number; row_key: string; fingerprint: string | null }>`
        select l.id::int as id, l.row_key, l.fingerprint from app.ledger l join tpi_keys k on k.row_key = l.row_key
         where l.activation_id = ${activationId} and l.status = 'rejected'`,
    );
    if (rejected.length === 0) return [];
    if (rejected.length <= REJECTED_LOOKUP_LIMIT) {
      const changed: number[] = [];
      for (let start = 0; start < rejected.length; start += LOOKUP_CHUNK) {
        const chunk = rejected.slice(start, start + LOOKUP_CHUNK);
        const current = await this.source.readRows(this.shape, chunk.map((row) => row.row_key), this.limits, { fingerprintsOnly: true });
        for (const row of chunk) {
          const now = current.get(row.row_key);
          if (now && now.fingerprint !== row.fingerprint) changed.push(row.id);
        }
      }
      return changed;
    }
    await this.client.query('create temp table tpi_fingerprints (row_key text, fingerprint text)');
    await this.source.copyFingerprints(
      this.shape,
      this.range,
      this.limits,
      new ChunkedCopyIn(this.client, 'copy tpi_fingerprints from stdin', this.scanLimits.maxBytes),
      this.readOptions(),
    );
    const changed = await this.query(
      sql<{ id: number }>`
        select distinct l.id::int as id from app.ledger l join tpi_fingerprints f on f.row_key = l.row_key
         where l.activation_id = ${activationId} and l.status = 'rejected' and l.fingerprint is distinct from f.fingerprint`,
    );
    return changed.map((row) => row.id);
  }

  markBroken(): void {
    this.healthy = false;
  }

  /** Drops the session tables; a connection that failed mid-way (half a COPY, say) is discarded rather than reused. */
  async close(): Promise<void> {
    if (this.healthy) {
      await this.client.query(`drop table if exists tpi_scan, tpi_keys, tpi_fingerprints${this.tempFileLimitSet ? '; reset temp_file_limit' : ''}`).catch(() => {
        this.healthy = false;
      });
    }
    this.client.release(!this.healthy);
  }
}
