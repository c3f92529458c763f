import { sql, type RawBuilder, type Selectable } from 'kysely';
import { runWarnings } from '../domain/run-summary.ts';
import type { DetectResult, FailureKind, FinishRunInput, RunSummary } from '../run/types.ts';
import { watermarkText } from './config-store.ts';
import type { AppDb } from './database.ts';
import type { LedgerStatus, RunsTable } from './schema.ts';

/** Workflow ids of runs the CLI makes itself (`test-row --send`): no workflow stands behind them. */
export const CLI_RUN_PREFIX = 'cli-test-row';
const CLI_RUN_MAX_MS = 10 * 60_000;

/** Whether a 'running' run the CLI opened may still be at work (the run lock then holds). */
export function isYoungCliRun(workflowId: string, startedAt: Date, now = Date.now()): boolean {
  return workflowId.startsWith(CLI_RUN_PREFIX) && now - startedAt.getTime() < CLI_RUN_MAX_MS;
}

/** What the run's detection recorded (all zero until it has). */
export function detectionCounts(run: Selectable<RunsTable>): DetectResult {
  return {
    fullScan: run.full_scan,
    sourceRows: run.source_rows,
    newRows: run.new_rows,
    reconsidered: run.reconsidered,
    duplicateKeys: run.duplicate_keys,
    nullKeys: run.null_keys,
    oversizedKeys: run.oversized_keys,
    baselineRows: run.baseline_rows,
    skippedAlreadySent: run.skipped_already_sent,
  };
}

/**
 * Records detection's findings on the run, in the transaction that recorded its ledger rows, so a
 * retried detection finds them (`detected`) instead of scanning again. It runs on the scan's own
 * session, hence a statement rather than a query through the pool.
 */
export function recordDetection(runId: number, found: DetectResult, maxCursor: string | null): RawBuilder<unknown> {
  return sql`
    update app.runs set detected = true, full_scan = ${found.fullScan},
           source_rows = ${found.sourceRows}, new_rows = ${found.newRows}, reconsidered = ${found.reconsidered},
           duplicate_keys = ${found.duplicateKeys}, null_keys = ${found.nullKeys}, oversized_keys = ${found.oversizedKeys},
           baseline_rows = ${found.baselineRows},
           skipped_already_sent = ${found.skippedAlreadySent},
           max_cursor = ${maxCursor === null ? null : JSON.stringify(maxCursor)}::jsonb
     where id = ${runId} and status = 'running'`;
}

/**
 * Until a run of the activation has succeeded, the next run is its first: a first run that died
 * half-way must not leave the rest of the backlog to be invited under the `baseline` policy.
 */
export async function isFirstRun(db: AppDb, activationId: string): Promise<boolean> {
  // A row sent by `cli test-row --send` is a run of its own that scanned nothing: it does not make
  // the next scan a later one (under `baseline`, that would invite the whole existing segment).
  const succeeded = await db
    .selectFrom('app.runs')
    .select('id')
    .where('activation_id', '=', activationId)
    .where('status', '=', 'succeeded')
    .where('workflow_id', 'not like', `${CLI_RUN_PREFIX}%`)
    .limit(1)
    .executeTakeFirst();
  return succeeded === undefined;
}

export function toRunSummary(run: Selectable<RunsTable>): RunSummary {
  return {
    runId: run.id,
    activationId: run.activation_id,
    status: run.status,
    startedAt: run.started_at.toISOString(),
    finishedAt: run.finished_at?.toISOString() ?? null,
    error: run.error,
    failureKind: run.failure_kind as FailureKind | null,
    ...detectionCounts(run),
    retriedRows: run.retried_rows,
    sent: run.sent,
    rejected: run.rejected,
    failed: run.failed,
    abandoned: run.abandoned,
    inDoubt: run.in_doubt,
    watermarkBefore: watermarkText(run.watermark_before),
    watermarkAfter: watermarkText(run.watermark_after),
    vanishedRows: run.vanished_rows,
    warnings: runWarnings({ nullKeys: run.null_keys, oversizedKeys: run.oversized_keys, vanishedRows: run.vanished_rows, duplicateKeys: run.duplicate_keys }),
  };
}

export async function getRunSummary(db: AppDb, runId: number): Promise<RunSummary | undefined> {
  const run = await db.selectFrom('app.runs').selectAll().where('id', '=', runId).executeTakeFirst();
  return run ? toRunSummary(run) : undefined;
}

export async function listRunSummaries(
  db: AppDb,
  filter: { activationId?: string; status?: RunSummary['status']; withoutSkipped?: boolean; limit: number },
): Promise<RunSummary[]> {
  let query = db.selectFrom('app.runs').selectAll();
  if (filter.activationId !== undefined) query = query.where('activation_id', '=', filter.activationId);
  if (filter.status !== undefined) query = query.where('status', '=', filter.status);
  if (filter.withoutSkipped) query = query.where('status', '!=', 'skipped');
  const runs = await query.orderBy('id', 'desc').limit(filter.limit).execute();
  return await withLiveCounts(db, runs.map(toRunSummary));
}

/**
 * A running run's own counts are written only when it ends (finishRunRecord); until then its
 * figures are counted from the ledger, from the rows the run holds, by status, as
 * finishRunRecord will count them. Rows not handled yet count nowhere (finishRunRecord counts
 * those left over as failed), and `failed` includes rows handed over from earlier runs that wait
 * for their retry.
 */
async function withLiveCounts(db: AppDb, runs: RunSummary[]): Promise<RunSummary[]> {
  const running = runs.filter((run) => run.status === 'running').map((run) => run.runId);
  if (running.length === 0) return runs;
  const counts = await db
    .selectFrom('app.ledger')
    .select((eb) => [
      'last_run_id',
      'status',
      eb.fn.countAll<number>().as('count'),
      eb.fn.count<number>(eb.case().when('in_doubt', '=', true).then(1).end()).as('in_doubt'),
    ])
    .where('last_run_id', 'in', running)
    .groupBy(['last_run_id', 'status'])
    .execute();
  const countOf = (runId: number, status: LedgerStatus) =>
    counts.filter((row) => Number(row.last_run_id) === runId && row.status === status).reduce((total, row) => total + Number(row.count), 0);
  return runs.map((run) =>
    run.status !== 'running'
      ? run
      : {
          ...run,
          sent: countOf(run.runId, 'sent'),
          rejected: countOf(run.runId, 'rejected'),
          failed: countOf(run.runId, 'failed'),
          abandoned: countOf(run.runId, 'abandoned'),
          inDoubt: counts.filter((row) => Number(row.last_run_id) === run.runId).reduce((total, row) => total + Number(row.in_doubt), 0),
        },
  );
}

/** A run that ended without its workflow finishing it (the workflow died, or an operator recovered it). */
interface AbandonRunInput {
  runId: number;
  outcome: 'abandoned';
  error: string;
  failureKind: 'stopped';
}

export async function abandonRun(db: AppDb, runId: number, reason: string): Promise<RunSummary> {
  return await finishRunRecord(db, { runId, outcome: 'abandoned', error: reason, failureKind: 'stopped' });
}

/**
 * Ends a run: counts its ledger rows by status, and on success moves the watermark (never
 * backwards) and records a full scan. A run already ended is returned as it is.
 */
export async function finishRunRecord(db: AppDb, input: FinishRunInput | AbandonRunInput): Promise<RunSummary> {
  return await db.transaction().execute(async (trx) => {
    const run = await trx.selectFrom('app.runs').selectAll().where('id', '=', input.runId).forUpdate().executeTakeFirstOrThrow();
    if (run.status !== 'running') return toRunSummary(run);
    const counts = await trx
      .selectFrom('app.ledger')
      .select((eb) => [
        'status',
        eb.fn.countAll<number>().as('count'),
        eb.fn.count<number>(eb.case().when('in_doubt', '=', true).then(1).end()).as('in_doubt'),
      ])
      .where('last_run_id', '=', input.runId)
      .groupBy('status')
      .execute();
    const countOf = (...statuses: LedgerStatus[]) =>
      counts.filter((row) => statuses.includes(row.status)).reduce((total, row) => total + Number(row.count), 0);
    const inDoubt = counts.reduce((total, row) => total + Number(row.in_doubt), 0);
    const succeeded = input.outcome === 'succeeded';
    // The watermark moves only when a run succeeded, and never backwards.
    const maxCursor = typeof run.max_cursor === 'string' ? run.max_cursor : null;
    const before = typeof run.watermark_before === 'string' ? run.watermark_before : null;
    const watermarkAfter = succeeded && maxCursor !== null && (before === null || Date.parse(maxCursor) > Date.parse(before)) ? maxCursor : before;
    const finished = await trx
      .updateTable('app.runs')
      .set({
        status: input.outcome,
        // The database's clock, as for started_at: a run never lasts a negative time.
        finished_at: sql<Date>`now()`,
        error: input.error ?? null,
        failure_kind: succeeded ? null : (input.failureKind ?? 'transient'),
        sent: countOf('sent'),
        rejected: countOf('rejected'),
        failed: countOf('failed', 'pending', 'sending', 'new'),
        abandoned: countOf('abandoned'),
        in_doubt: inDoubt,
        watermark_after: watermarkAfter === null ? null : JSON.stringify(watermarkAfter),
      })
      .where('id', '=', input.runId)
      .returningAll()
      .executeTakeFirstOrThrow();
    if (succeeded && (watermarkAfter !== null || run.full_scan)) {
      await trx
        .updateTable('app.activations')
        .set({
          ...(watermarkAfter !== null ? { watermark: JSON.stringify(watermarkAfter) } : {}),
          ...(run.full_scan ? { last_full_scan_at: run.started_at } : {}),
        })
        .where('id', '=', run.activation_id)
        .execute();
    }
    return toRunSummary(finished);
  });
}
