import { withServices } from '../context.ts';
import { CliError, colors, printJson, printTable, relativeTime, statusColor } from '../output.ts';
import { loadActivation } from '../../db/config-store.ts';
import type { LedgerStatus } from '../../db/schema.ts';

export async function rowsCommand(
  activationId: string,
  options: { status?: LedgerStatus; run?: number; key?: string[]; limit: number; json?: boolean },
): Promise<void> {
  await withServices(async (services) => {
    await loadActivation(services.db, activationId);
    const filter = {
      ...(options.status ? { status: options.status } : {}),
      ...(options.run !== undefined ? { runId: options.run } : {}),
      ...(options.key ? { keys: options.key } : {}),
    };
    const rows = await services.client.ledgerRows(activationId, { ...filter, limit: options.limit });
    // A full page may hide more rows: the count says how many, so the cut is never silent.
    const total = rows.length < options.limit ? rows.length : await services.client.countLedgerRows(activationId, filter);
    if (options.json) {
      printJson({ activationId, total, shown: rows.length, rows });
      return;
    }
    printTable(rows, [
      { header: 'key', value: (row) => row.rowKey, keepWords: true },
      { header: 'status', value: (row) => row.status, style: (text) => statusColor(text) },
      { header: 'attempts', value: (row) => row.attempts },
      { header: 'runs', value: (row) => row.runsAttempted },
      { header: 'in doubt', value: (row) => (row.inDoubt ? colors.yellow('yes') : '') },
      { header: 'last run', value: (row) => row.lastRunId },
      { header: 'updated', value: (row) => relativeTime(row.updatedAt) },
      { header: 'reason', value: (row) => row.error ?? '' },
    ]);
    if (total > rows.length) {
      const narrow = [options.status ? '' : '--status', options.run !== undefined ? '' : '--run', options.key ? '' : '--key'].filter((flag) => flag !== '');
      console.log(colors.dim(`showing ${rows.length} of ${total} (use --limit ${total} for all${narrow.length > 0 ? `, or ${narrow.join(' / ')} to narrow` : ''})`));
    }
  });
}

/** Where keys were given and one matches no row, the positions of those keys are named, not the keys (they can be emails). */
function positionsText(positions: readonly number[]): string {
  const named = positions.map((position) => `#${position}`);
  return named.length === 1 ? `key ${named.join('')}` : `keys ${named.slice(0, -1).join(', ')} and ${named.slice(-1).join('')}`;
}

/**
 * With --keys, all or nothing: a key that matches no row of that status (a typo, a row in another
 * status) refuses the whole command, so that running it again once fixed does what was meant.
 */
export async function requeueCommand(activationId: string, options: { status: 'failed' | 'abandoned' | 'rejected'; keys?: string[]; json?: boolean }): Promise<void> {
  // An empty --keys would otherwise mean every row of that status.
  if (options.keys && options.keys.length === 0) throw new CliError('--keys names no key: give the keys, or leave --keys out to requeue every row of that status');
  await withServices(async (services) => {
    let count: number;
    if (options.keys) {
      const outcome = await services.client.requeueKeys(activationId, { status: options.status, keys: options.keys });
      if (outcome.unmatched.length > 0) {
        throw new CliError(
          `${outcome.unmatched.length} of the ${options.keys.length} key(s) given match no ${options.status} row of ${activationId} (${positionsText(outcome.unmatched)} of --keys): nothing was requeued; \`rows ${activationId} --key …\` shows a row's status`,
        );
      }
      count = outcome.requeued;
    } else {
      count = await services.client.requeue(activationId, { status: options.status });
    }
    if (options.json) printJson({ activationId, status: options.status, requeued: count });
    else console.log(`requeued ${count} ${options.status} row(s) of ${activationId}: the next run ${options.status === 'rejected' ? 'reads and rebuilds' : 'sends'} them`);
  });
}
