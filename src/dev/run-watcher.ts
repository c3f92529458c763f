import { setTimeout as delay } from 'node:timers/promises';
import type { AppDb } from '../db/database.ts';
import { toRunSummary } from '../activities/runs.ts';
import type { RunSummary } from '../workflows/types.ts';

export function formatRunLine(run: RunSummary): string {
  const seconds = run.finishedAt ? ((Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000).toFixed(1) : '?';
  const counts = `new ${run.newRows} / sent ${run.sent} / rejected ${run.rejected} / failed ${run.failed}`;
  const extra = [
    run.retriedRows ? `retried ${run.retriedRows}` : '',
    run.duplicateKeys ? `duplicate keys ${run.duplicateKeys}` : '',
    run.inDoubt ? `in doubt ${run.inDoubt}` : '',
  ].filter(Boolean);
  const tail = run.error ? ` — ${run.error}` : '';
  return `[${new Date().toISOString()}] run ${run.runId} ${run.activationId} ${run.status} in ${seconds}s: ${counts}${extra.length ? ` (${extra.join(', ')})` : ''}${tail}`;
}

/** Prints one line per run that finishes from now on. */
export async function watchRuns(db: AppDb, signal: AbortSignal, print: (line: string) => void): Promise<void> {
  const startedAt = new Date();
  const printed = new Set<number>();
  while (!signal.aborted) {
    try {
      const finished = await db
        .selectFrom('app.runs')
        .selectAll()
        .where('finished_at', '>=', startedAt)
        .orderBy('finished_at')
        .execute();
      for (const run of finished) {
        if (printed.has(run.id)) continue;
        printed.add(run.id);
        print(formatRunLine(toRunSummary(run)));
      }
    } catch {
      // Postgres may be restarting; the next poll catches up.
    }
    await delay(2_000, undefined, { signal }).catch(() => undefined);
  }
}
