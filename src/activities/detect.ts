import { detectionCounts, recordDetection } from '../db/runs.ts';
import { baselineApplies, detectionFindings, diffWithLedger, reconsiderRejected, recordUnknownKeys } from '../detection/findings.ts';
import { scanRangeFor } from '../detection/range.ts';
import { ScanSession, type ScanStats } from '../detection/scan-session.ts';
import type { ScanRange } from '../source/types.ts';
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
      const session = await ScanSession.open({ pool: deps.appPool, db: deps.db }, config.source, shape, range, config.limits, {
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
          throw sourceFailure(config.source.describeError(error, config.errorContext));
        }
        return await record(session, input.runId, config, { firstRun: run.first_run, stats, changed, range });
      } finally {
        await session.close();
      }
    } finally {
      heartbeats.stop();
    }
  }

  /**
   * One transaction: unknown keys become ledger rows, changed rejected rows are reconsidered, and
   * the run records its findings.
   */
  async function record(session: ScanSession, runId: number, config: RunConfig, found: { firstRun: boolean; stats: ScanStats; changed: number[]; range: ScanRange }): Promise<DetectResult> {
    const activationId = config.activation.id;
    const baseline = baselineApplies(config.activation, found.firstRun);
    return await session.transaction(async () => {
      const diff = await diffWithLedger(session, activationId);
      // Inserting only when the count found something: a run that finds nothing new (the usual
      // case) joins the segment's keys with the ledger once, and writes nothing.
      const recorded = diff.unknown === 0 ? 0 : await recordUnknownKeys(session, { activationId, runId, baseline });
      const reconsidered = await reconsiderRejected(session, found.changed, runId);
      const result = detectionFindings({ stats: found.stats, range: found.range, baseline, recorded, reconsidered, alreadySent: diff.alreadySent });
      await session.execute(recordDetection(runId, result, found.stats.maxCursor));
      return result;
    });
  }

  return { detectNewRows };
}
