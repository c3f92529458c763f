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

export function slotIntervalMs(rateLimit: { calls: number; perSeconds: number }): number {
  const windowMs = rateLimit.perSeconds * 1000;
  const headroomMs = Math.max(windowMs * HEADROOM_SHARE, MIN_HEADROOM_MS);
  return (windowMs + headroomMs) / rateLimit.calls;
}

export function pacingKey(apiUrl: string, apiKey: string): string {
  return createHash('sha256').update(`${apiUrl}\n${apiKey}`).digest('base64url');
}

/**
 * Reserves the next call slot for a credential set, shared by every worker through one row in
 * Postgres: each reservation moves the row's next free slot forward by one interval. Calls are
 * thereby spaced evenly at the allowed rate across all processes, so a run at the limit gets no 429.
 * When the interval shrinks (a rate limit raised by configuration), slots queued at the old spacing
 * are dropped, so the new limit applies at once. Returns the slot on this process's clock.
 */
export async function reserveSlot(db: AppDb, key: string, intervalMs: number): Promise<number> {
  const interval = sql`make_interval(secs => ${intervalMs / 1000})`;
  const result = await sql<{ slot_ms: number; now_ms: number }>`
    insert into app.rate_limits as r (key, next_slot_at, interval_ms) values (${key}, clock_timestamp() + ${interval}, ${intervalMs})
    on conflict (key) do update
      set next_slot_at = greatest(
            case when r.interval_ms is null or r.interval_ms > excluded.interval_ms
                 then least(r.next_slot_at, clock_timestamp()) else r.next_slot_at end,
            clock_timestamp()) + ${interval},
          interval_ms = excluded.interval_ms
    returning (extract(epoch from r.next_slot_at - ${interval}) * 1000)::float8 as slot_ms,
              (extract(epoch from clock_timestamp()) * 1000)::float8 as now_ms
  `.execute(db);
  const row = result.rows[0];
  if (!row) return Date.now();
  // The database's clock decides the order; translate the slot to ours.
  return Date.now() + (row.slot_ms - row.now_ms);
}
