import { sql } from 'kysely';
import { detectionCounts } from '../db/runs.ts';
import type { LedgerStatus } from '../db/schema.ts';
import { scanRangeFor } from '../detection/range.ts';
import { ScanSession, type ScanStats } from '../detection/scan-session.ts';
import { toSourceError } from '../source/errors.ts';
import type { DetectResult } from '../run/types.ts';
import type { ActivityDeps } from './deps.ts';
import { sourceFailure } from './failures.ts';
import { readHeartbeats } from './read-heartbeats.ts';
import type { RunConfig, RunContext } from './run-context.ts';

export function createDetectActivity(deps: ActivityDeps, context: RunContext) {
  const { db } = deps;

  /**
   * Diffs the segment against the ledger in bulk: the keys (and cursor values) of every row in the
   * scan range are streamed by COPY from the warehouse into a session table of the app database,
   * and one SQL statement records every unknown key as 'new' (or 'baseline'). Full rows are read
   * only later, for the new keys, when their batch is claimed. Rejected rows whose mapped values
   * changed are found by fingerprint and recorded as 'new' again.
   *
   * Idempotent: the findings are committed in one transaction with the run's `detected` flag, and
   * a retried call returns them without scanning again.
   */
  async function detectNewRows(input: { runId: number }): Promise<DetectResult> {
    // First of all: the run must be this worker's (its database's) and this workflow's.
    const config = await context.config(input.runId);
    const run = await db.selectFrom('app.runs').selectAll().where('id', '=', input.runId).executeTakeFirstOrThrow();
    if (run.detected || run.status !== 'running') return detectionCounts(run);
    const heartbeats = readHeartbeats(config.limits.statementTimeoutMs);
    try {
      const shape = await context.shape(input.runId);
      const range = scanRangeFor(config.activation, { fullScan: run.full_scan, watermark: run.watermark_before });
      const session = await ScanSession.open(deps.appPool, deps.warehouse, shape, range, config.limits, {
        ...(deps.scanLimits ? { scanLimits: deps.scanLimits } : {}),
        onProgress: heartbeats.onProgress,
      });
      try {
        let stats: ScanStats;
        let changed: number[];
        try {
          await session.load();
          stats = await session.stats();
          changed = await session.changedRejectedRows(config.activation.id);
        } catch (error) {
          session.markBroken();
          throw sourceFailure(toSourceError(error, config.errorContext));
        }
        return await record(session, input.runId, config, run.first_run, stats, changed, range.cursorSince === undefined);
      } finally {
        await session.close();
      }
    } finally {
      heartbeats.stop();
    }
  }

  /** One transaction: unknown keys become ledger rows, changed rejected rows are reconsidered, the run records its findings. */
  async function record(
    session: ScanSession,
    runId: number,
    config: RunConfig,
    firstRun: boolean,
    stats: ScanStats,
    changed: number[],
    fullScan: boolean,
  ): Promise<DetectResult> {
    const activationId = config.activation.id;
    const baseline = firstRun && config.activation.firstRunPolicy === 'baseline';
    const status: LedgerStatus = baseline ? 'baseline' : 'new';
    await session.client.query('begin');
    try {
      // Counting first, inserting only when there is something new: a run that finds nothing new
      // (the usual case) joins the segment's keys with the ledger once, and writes nothing.
      const [diff] = await session.query(
        sql<{ unknown: number; already_sent: number }>`
          select count(*) filter (where l.id is null)::int as unknown,
                 count(*) filter (where l.status = 'sent')::int as already_sent
            from tpi_keys k
            left join app.ledger l on l.activation_id = ${activationId} and l.row_key = k.row_key
           where k.row_key is not null`,
      );
      const inserted =
        (diff?.unknown ?? 0) === 0
          ? 0
          : await session.execute(
              sql`insert into app.ledger (activation_id, row_key, status, first_run_id, last_run_id)
                  select ${activationId}, k.row_key, ${status}, ${runId}, ${runId} from tpi_keys k
                   where k.row_key is not null
                     and not exists (select 1 from app.ledger l where l.activation_id = ${activationId} and l.row_key = k.row_key)
                  on conflict (activation_id, row_key) do nothing`,
            );
      const reconsidered =
        changed.length === 0
          ? 0
          : await session.execute(
              sql`update app.ledger set status = 'new', fingerprint = null, error_class = null, error_message = null, last_run_id = ${runId}, updated_at = now()
                   where id = any(${changed}::bigint[]) and status = 'rejected'`,
            );
      const result: DetectResult = {
        sourceRows: stats.rows,
        newRows: (baseline ? 0 : inserted) + reconsidered,
        reconsidered: reconsidered,
        duplicateKeys: stats.rows - stats.nullKeys - stats.oversizedKeys - stats.distinctKeys,
        nullKeys: stats.nullKeys,
        oversizedKeys: stats.oversizedKeys,
        baselineRows: baseline ? inserted : 0,
        skippedAlreadySent: diff?.already_sent ?? 0,
        fullScan,
      };
      await session.query(
        sql`update app.runs set detected = true, full_scan = ${fullScan},
                   source_rows = ${result.sourceRows}, new_rows = ${result.newRows}, reconsidered = ${result.reconsidered},
                   duplicate_keys = ${result.duplicateKeys}, null_keys = ${result.nullKeys}, oversized_keys = ${result.oversizedKeys},
                   baseline_rows = ${result.baselineRows},
                   skipped_already_sent = ${result.skippedAlreadySent},
                   max_cursor = ${stats.maxCursor === null ? null : JSON.stringify(stats.maxCursor)}::jsonb
             where id = ${runId} and status = 'running'`,
      );
      await session.client.query('commit');
      return result;
    } catch (error) {
      await session.client.query('rollback').catch(() => session.markBroken());
      throw error;
    }
  }

  return { detectNewRows };
}
