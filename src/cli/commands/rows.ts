import { withServices } from '../context.ts';
import { colors, printJson, printTable, relativeTime, statusColor } from '../output.ts';
import { loadActivation } from '../../db/config-store.ts';
import type { LedgerStatus } from '../../db/schema.ts';

export async function rowsCommand(
  activationId: string,
  options: { status?: LedgerStatus; run?: number; key?: string[]; limit: number; json?: boolean },
): Promise<void> {
  await withServices(async (services) => {
    await loadActivation(services.db, activationId);
    const rows = await services.client.ledgerRows(activationId, {
      ...(options.status ? { status: options.status } : {}),
      ...(options.run !== undefined ? { runId: options.run } : {}),
      ...(options.key ? { keys: options.key } : {}),
      limit: options.limit,
    });
    if (options.json) {
      printJson(rows);
      return;
    }
    printTable(rows, [
      { header: 'key', value: (row) => row.rowKey },
      { header: 'status', value: (row) => row.status, style: (text) => statusColor(text) },
      { header: 'attempts', value: (row) => row.attempts },
      { header: 'runs', value: (row) => row.runsAttempted },
      { header: 'in doubt', value: (row) => (row.inDoubt ? colors.yellow('yes') : '') },
      { header: 'last run', value: (row) => row.lastRunId },
      { header: 'updated', value: (row) => relativeTime(row.updatedAt) },
      { header: 'reason', value: (row) => row.error ?? '' },
    ]);
  });
}

export async function requeueCommand(activationId: string, options: { status: 'failed' | 'abandoned' | 'rejected'; keys?: string[]; json?: boolean }): Promise<void> {
  await withServices(async (services) => {
    const count = await services.client.requeue(activationId, { status: options.status, ...(options.keys ? { keys: options.keys } : {}) });
    if (options.json) printJson({ activationId, status: options.status, requeued: count });
    else console.log(`requeued ${count} ${options.status} row(s) of ${activationId}: the next run ${options.status === 'rejected' ? 'reads and rebuilds' : 'sends'} them`);
  });
}
