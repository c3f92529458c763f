import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { AppDb } from './database.ts';

/**
 * Headroom on the documented allowance: calls leave at their slot, but network jitter can bring
 * them closer together at Trustpilot's end than they left ours. 2% of the window (6 s of
 * Trustpilot's 5 minutes), and never less than 250 ms of it for short windows (where one late call matters).
 */
const HEADROOM_SHARE = 0.02;
const MIN_HEADROOM_MS = 250;

function headroomMs(rateLimit: { calls: number; perSeconds: number }): number {
  return Math.max(rateLimit.perSeconds * 1000 * HEADROOM_SHARE, MIN_HEADROOM_MS);
}

export function slotIntervalMs(rateLimit: { calls: number; perSeconds: number }): number {
  return (rateLimit.perSeconds * 1000 + headroomMs(rateLimit)) / rateLimit.calls;
}

/**
 * How late after its slot a call may still leave. The headroom absorbs calls arriving closer
 * together than they left; a call later than half of it (a busy machine, a pause) could bunch with
 * the next ones beyond what the headroom absorbs, so it takes a new slot instead.
 */
export function lateToleranceMs(rateLimit: { calls: number; perSeconds: number }): number {
  return headroomMs(rateLimit) / 2;
}

export function pacingKey(apiUrl: string, apiKey: string): string {
  return createHash('sha256').update(`${apiUrl}\n${apiKey}`).digest('base64url');
}

/**
 * Reserves `count` consecutive call slots for a credential set, shared by every worker through one
 * row in Postgres: each reservation moves the row's next free slot forward by `count` intervals.
 * Calls are thereby spaced evenly at the allowed rate across all processes, so a run at the limit
 * gets no 429. When the interval shrinks (a rate limit raised by configuration), slots queued at
 * the old spacing are dropped, so the new limit applies at once. Returns the first slot on this
 * process's clock. The reservation is committed without waiting for the disk: a reservation lost
 * in a crash only leaves a gap in the schedule.
 */
export async function reserveSlots(db: AppDb, key: string, intervalMs: number, count = 1): Promise<number> {
  const span = sql`make_interval(secs => ${(intervalMs * count) / 1000})`;
  // set_config(…, true) lasts for this statement's own transaction: one round trip.
  const result = await sql<{ slot_ms: number; now_ms: number }>`
    insert into app.rate_limits as r (key, next_slot_at, interval_ms)
    select ${key}, clock_timestamp() + ${span}, ${intervalMs} from (select set_config('synchronous_commit', 'off', true)) as commit_without_waiting
    on conflict (key) do update
      set next_slot_at = greatest(
            case when r.interval_ms is null or r.interval_ms > excluded.interval_ms
                 then least(r.next_slot_at, clock_timestamp()) else r.next_slot_at end,
            clock_timestamp()) + ${span},
          interval_ms = excluded.interval_ms
    returning (extract(epoch from r.next_slot_at - ${span}) * 1000)::float8 as slot_ms,
              (extract(epoch from clock_timestamp()) * 1000)::float8 as now_ms
  `.execute(db);
  const row = result.rows[0];
  if (!row) return Date.now();
  // The database's clock decides the order; translate the slot to ours.
  return Date.now() + (row.slot_ms - row.now_ms);
}

/** Slots a process reserves at once: about this much time's worth, so fast limits cost one reservation per several calls. */
const BATCH_SPAN_MS = 200;
const MAX_BATCH = 64;

/**
 * Hands out call slots to the sends of this process, reserving them from the shared schedule a
 * few at a time when the rate allows several calls in BATCH_SPAN_MS (one at a time otherwise, as
 * at Trustpilot's own 833 per 5 minutes). A slot left unused for longer than one interval (its
 * send waited on something else) is given up rather than used late, which could bunch calls.
 */
export class Pacer {
  private readonly queues = new Map<string, { slots: number[]; filling: Promise<void> | undefined }>();

  constructor(private readonly db: AppDb) {}

  async nextSlot(key: string, intervalMs: number): Promise<number> {
    let queue = this.queues.get(key);
    if (!queue) {
      queue = { slots: [], filling: undefined };
      this.queues.set(key, queue);
    }
    for (;;) {
      const stale = Date.now() - Math.max(intervalMs, 20);
      while (queue.slots.length > 0 && (queue.slots[0] ?? 0) < stale) queue.slots.shift();
      const slot = queue.slots.shift();
      if (slot !== undefined) return slot;
      queue.filling ??= this.fill(key, intervalMs, queue);
      await queue.filling;
    }
  }

  private async fill(key: string, intervalMs: number, queue: { slots: number[]; filling: Promise<void> | undefined }): Promise<void> {
    try {
      const count = Math.max(1, Math.min(MAX_BATCH, Math.floor(BATCH_SPAN_MS / intervalMs)));
      const first = await reserveSlots(this.db, key, intervalMs, count);
      for (let index = 0; index < count; index++) queue.slots.push(first + index * intervalMs);
    } finally {
      queue.filling = undefined;
    }
  }
}
