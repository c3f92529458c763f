import type { Client } from '@temporalio/client';
import type { Checked } from '../config-checks.ts';
import { colors } from '../output.ts';
import { listActivations, storedConfigs } from '../../db/config-store.ts';
import type { AppDb } from '../../db/database.ts';
import { readDeployment } from '../../db/deployment.ts';
import { scheduleDrift, type ScheduleDrift } from '../../temporal/schedules.ts';

/** `apply`'s plan: what it creates, changes, leaves and deletes, and the live schedules that differ from what it will set. */

type Action = 'create' | 'change' | 'unchanged' | 'delete';

interface PlanItem {
  /** `schedule`: a live schedule that differs from what its activation says (changed in Temporal, or missing) */
  kind: 'destination' | 'activation' | 'schedule';
  id: string;
  action: Action;
  /** for a schedule: what differs, and what apply does about it */
  detail?: string;
}

/** Schedules described at once while planning: enough to plan thousands quickly, few enough for a shared server. */
const DESCRIBE_CONCURRENCY = 8;

async function mapConcurrently<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * The live schedules that differ from what apply will set: resumed or paused in the Temporal UI,
 * or missing. Without this, apply would undo a change made in Temporal and report no change.
 */
export async function scheduleDrifts(db: AppDb, temporal: Client, checked: Checked, plan: readonly PlanItem[]): Promise<Map<string, ScheduleDrift>> {
  const deployment = await readDeployment(db);
  // Nothing of this deployment's can be in Temporal before it exists.
  if (!deployment) return new Map();
  // Soft-deleted rows keep their note, and an activation applied again under their id gets it back.
  const notes = new Map((await db.selectFrom('app.activations').select(['id', 'paused_note']).execute()).map((row) => [row.id, row.paused_note]));
  const stored = new Map((await listActivations(db)).map((listing) => [listing.id, listing]));
  const items = plan.filter((item) => item.kind === 'activation' && item.action !== 'delete');
  const drifts = await mapConcurrently(items, DESCRIBE_CONCURRENCY, async (item) => {
    const activation = checked.activations.get(item.id)?.config;
    if (!activation) return undefined;
    const previous = stored.get(item.id);
    const drift = await scheduleDrift(
      temporal,
      { activation, deploymentId: deployment.deploymentId, pausedNote: notes.get(item.id) ?? null },
      previous ? { activation: previous.config, pausedNote: previous.pausedNote } : undefined,
    );
    // A new activation's schedule is created anyway: that is its `+` line.
    return drift && !(item.action === 'create' && drift.description.startsWith('missing')) ? drift : undefined;
  });
  return new Map(drifts.filter((drift): drift is ScheduleDrift => drift !== undefined).map((drift) => [drift.activationId, drift]));
}

export async function planOf(db: AppDb, checked: Checked, prune: boolean): Promise<PlanItem[]> {
  const stored = await storedConfigs(db);
  const actionFor = (current: string | undefined, next: string): Action => (current === undefined ? 'create' : current === next ? 'unchanged' : 'change');
  const plan: PlanItem[] = [
    ...[...checked.destinations.values()].map((destination) => ({
      kind: 'destination' as const,
      id: destination.id,
      action: actionFor(stored.destinations.get(destination.id), JSON.stringify(destination)),
    })),
    ...[...checked.activations.values()].map(({ config }) => ({
      kind: 'activation' as const,
      id: config.id,
      action: actionFor(stored.activations.get(config.id), JSON.stringify(config)),
    })),
  ];
  if (prune) {
    for (const id of stored.activations.keys()) if (!checked.activations.has(id)) plan.push({ kind: 'activation', id, action: 'delete' });
    for (const id of stored.destinations.keys()) if (!checked.destinations.has(id)) plan.push({ kind: 'destination', id, action: 'delete' });
  }
  return plan;
}

const SYMBOLS: Record<Action, string> = { create: colors.green('+'), change: colors.yellow('~'), unchanged: colors.dim('='), delete: colors.red('-') };

export function printPlan(plan: readonly PlanItem[]): void {
  for (const item of plan) {
    if (item.detail !== undefined) console.log(`  ${SYMBOLS[item.action]} ${item.kind} ${item.id}: ${item.detail}`);
    else console.log(`  ${SYMBOLS[item.action]} ${item.kind} ${item.id}${item.action === 'unchanged' ? colors.dim(' (unchanged)') : ` (${item.action})`}`);
  }
}

/** `3 activation(s) (a, b, c) and 1 destination(s) (d)`: how many of each, and which. */
export function deletionSummary(deletions: readonly PlanItem[]): string {
  const parts: string[] = [];
  for (const kind of ['activation', 'destination'] as const) {
    const ids = deletions.filter((item) => item.kind === kind).map((item) => item.id);
    if (ids.length === 0) continue;
    parts.push(`${ids.length} ${kind}(s) (${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', …' : ''})${kind === 'activation' ? ' with their schedules' : ''}`);
  }
  return parts.join(' and ');
}
