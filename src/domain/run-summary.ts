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
    run.inDoubt ? `in doubt ${run.inDoubt}` : '',
    run.abandoned ? `abandoned ${run.abandoned}` : '',
  ].filter(Boolean);
  const when = run.finishedAt ?? run.startedAt;
  const tail = run.error ? ` — ${run.error}` : '';
  const took = run.status === 'skipped' ? '' : ` in ${seconds}s`;
  return `[${when}] run ${run.runId} ${run.activationId} ${run.status}${took}: ${counts}${extra.length ? ` (${extra.join(', ')})` : ''}${tail}`;
}
