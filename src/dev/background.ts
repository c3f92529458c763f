import { setTimeout as delay } from 'node:timers/promises';
import { createUntypedDb } from '../db/database.ts';
import { toRunSummary } from '../db/runs.ts';
import { formatRunLine } from '../domain/index.ts';
import type { Services } from '../runtime/services.ts';
import { insertDemoOrders } from './demo.ts';
import type { Pieces } from './pieces.ts';
import { NEW_ORDERS_EVERY_MS } from './settings.ts';

/** What goes on beside the worker until dev mode stops. */

/** Prints one line per run that finishes from now on. */
export async function watchRuns(services: Services, signal: AbortSignal): Promise<void> {
  const since = new Date();
  const printed = new Set<number>();
  while (!signal.aborted) {
    try {
      const finished = await services.db.selectFrom('app.runs').selectAll().where('finished_at', '>=', since).orderBy('finished_at').execute();
      for (const run of finished) {
        if (printed.has(run.id)) continue;
        printed.add(run.id);
        console.log(formatRunLine(toRunSummary(run)));
      }
    } catch {
      // Postgres may be restarting; the next poll catches up.
    }
    await delay(2_000, undefined, { signal }).catch(() => undefined);
  }
}

/** New demo orders arriving, as they would in a live warehouse. */
export async function addOrders(pieces: Pieces, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    await delay(NEW_ORDERS_EVERY_MS, undefined, { signal }).catch(() => undefined);
    if (signal.aborted) break;
    const warehouseAdmin = createUntypedDb(pieces.warehouseAdminUrl, { max: 1 });
    await insertDemoOrders(warehouseAdmin, 1 + Math.floor(Math.random() * 3)).catch(() => undefined);
    await warehouseAdmin.destroy();
  }
}
