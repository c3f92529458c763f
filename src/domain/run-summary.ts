/** What a run did, in ids, counts and reasons: what history, the CLI and alerts show. */

export type FailureKind =
  /** configuration, credentials, grants or the source's SQL: an operator must change something */
  | 'misconfigured'
  /** Trustpilot kept failing (circuit breaker) */
  | 'unavailable'
  /** the database or warehouse kept failing beyond the retry bound */
  | 'transient'
  /** cancelled or terminated by an operator */
  | 'stopped';

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'skipped' | 'abandoned';

export interface RunSummary {
  runId: number;
  activationId: string;
  status: RunStatus;
  startedAt: string;
  finishedAt: string | null;
  error: string | null;
  failureKind: FailureKind | null;
  fullScan: boolean;
  sourceRows: number;
  newRows: number;
  reconsidered: number;
  duplicateKeys: number;
  nullKeys: number;
  /** rows whose key is longer than the ledger can hold: counted, not tracked, not sent */
  oversizedKeys: number;
  /** rows found new that were gone, or had another key, when their data was read */
  vanishedRows: number;
  baselineRows: number;
  retriedRows: number;
  sent: number;
  rejected: number;
  failed: number;
  abandoned: number;
  skippedAlreadySent: number;
  inDoubt: number;
  watermarkBefore: string | null;
  watermarkAfter: string | null;
  /** what an operator should know even of a run that succeeded (rows it could not track or read) */
  warnings: string[];
}

/** Longest row key the ledger holds, in bytes (its unique index limits entries to about 2.7 kB). */
export const MAX_ROW_KEY_BYTES = 2048;

/** The warnings a run's counts call for; built from counts only, so they hold no row value. */
export function runWarnings(counts: Pick<RunSummary, 'nullKeys' | 'oversizedKeys' | 'vanishedRows' | 'duplicateKeys'>): string[] {
  const warnings: string[] = [];
  if (counts.nullKeys > 0) warnings.push(`${counts.nullKeys} row(s) have no primary key value and cannot be tracked: not sent`);
  if (counts.oversizedKeys > 0) {
    warnings.push(`${counts.oversizedKeys} row(s) have a primary key longer than ${MAX_ROW_KEY_BYTES} bytes, more than the ledger can hold: not sent (use a shorter key)`);
  }
  if (counts.vanishedRows > 0) {
    warnings.push(
      `${counts.vanishedRows} row(s) found new were gone when their data was read: their key changed between the scan and the read (is it built from a volatile expression such as random() or now()?) or they were deleted meanwhile`,
    );
  }
  if (counts.duplicateKeys > 0) warnings.push(`${counts.duplicateKeys} row(s) repeat a key already in the segment: only one row per key is sent`);
  return warnings;
}

/** One line per run, for terminals and alerts. */
export function formatRunLine(run: RunSummary): string {
  const seconds = run.finishedAt ? ((Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000).toFixed(1) : '?';
  const counts = `new ${run.newRows} / sent ${run.sent} / rejected ${run.rejected} / failed ${run.failed}`;
  const extra = [
    run.retriedRows ? `retried ${run.retriedRows}` : '',
    run.baselineRows ? `baseline ${run.baselineRows}` : '',
    run.duplicateKeys ? `duplicate keys ${run.duplicateKeys}` : '',
    run.nullKeys ? `rows without a key ${run.nullKeys}` : '',
    run.oversizedKeys ? `keys too long ${run.oversizedKeys}` : '',
    run.vanishedRows ? `gone before read ${run.vanishedRows}` : '',
    run.inDoubt ? `in doubt ${run.inDoubt}` : '',
    run.abandoned ? `abandoned ${run.abandoned}` : '',
  ].filter(Boolean);
  const when = run.finishedAt ?? run.startedAt;
  const tail = run.error ? ` — ${run.error}` : '';
  const took = run.status === 'skipped' ? '' : ` in ${seconds}s`;
  return `[${when}] run ${run.runId} ${run.activationId} ${run.status}${took}: ${counts}${extra.length ? ` (${extra.join(', ')})` : ''}${tail}`;
}
