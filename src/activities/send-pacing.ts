import type { Context } from '@temporalio/activity';
import type { AppDb } from '../db/database.ts';
import { Pacer, lateToleranceMs, slotIntervalMs } from '../db/pacing.ts';
import type { DestinationConfig } from '../domain/index.ts';
import { HEARTBEAT_EVERY_MS } from '../run/policies.ts';
import { LiveRateLimits } from './live-rate-limits.ts';
import { recordPacingWait } from './metrics.ts';

/** Time to move the row to 'sending' before the slot, so the call itself leaves exactly on it. */
const LEDGER_WRITE_ALLOWANCE_MS = 50;

/** The spacing of calls under a rate limit. */
interface Pace {
  intervalMs: number;
  lateToleranceMs: number;
}

function paceOf(rateLimit: { calls: number; perSeconds: number }): Pace {
  return { intervalMs: slotIntervalMs(rateLimit), lateToleranceMs: lateToleranceMs(rateLimit) };
}

/** A call slot from the shared schedule, and the pace it was given at. */
export interface Slot {
  at: number;
  pace: Pace;
}

/** Whose calls a send paces: one schedule per Trustpilot API key, under its destination's current limit. */
export interface PacedRun {
  pacingKey: string;
  destination: DestinationConfig;
  activationId: string;
}

/**
 * Sleeps until `time`, heartbeating: with many activations on one API key a slot can be far off.
 * Stops early (returning false) when `stillValid` says the slot no longer holds.
 */
async function sleepUntil(context: Context, time: number, stillValid?: () => Promise<boolean>): Promise<boolean> {
  for (let wait = time - Date.now(); wait > 0; wait = time - Date.now()) {
    await context.sleep(Math.min(wait, HEARTBEAT_EVERY_MS));
    context.heartbeat();
    if (stillValid && time - Date.now() > 0 && !(await stillValid())) return false;
  }
  return true;
}

/** The waits of a send for its call slot, shared by every worker through the pacer in Postgres. */
export class SendPacing {
  private readonly pacer: Pacer;
  private readonly rateLimits: LiveRateLimits;

  constructor(db: AppDb) {
    this.pacer = new Pacer(db);
    this.rateLimits = new LiveRateLimits(db);
  }

  /**
   * Takes the next call slot under the destination's current rate limit and waits until just
   * before it. A slot far ahead is given up for a nearer one when the limit is raised meanwhile: a
   * run paced at one call a minute speeds up within seconds of the change, not after the slots it
   * had already queued.
   */
  async nextSlot(activity: Context, run: PacedRun): Promise<Slot> {
    for (;;) {
      const pace = paceOf(await this.rateLimits.of(run.destination));
      const at = await this.pacer.nextSlot(run.pacingKey, pace.intervalMs);
      recordPacingWait(run.activationId, at - Date.now());
      // Wake a little early to write the ledger, then leave exactly at the slot: what arrives at
      // Trustpilot keeps the spacing the pacer gave, whatever the database's latency.
      const raised = async () => paceOf(await this.rateLimits.of(run.destination)).intervalMs >= pace.intervalMs;
      if (await sleepUntil(activity, at - LEDGER_WRITE_ALLOWANCE_MS, raised)) return { at, pace };
    }
  }

  /**
   * Waits for the slot itself. Woken too late (a busy machine): leaves at a new slot rather than
   * bunch with the next calls. The row is 'sending' during that wait, the one case where a wait
   * falls in the in-doubt window.
   */
  async leaveAt(activity: Context, run: PacedRun, slot: Slot): Promise<void> {
    let at = slot.at;
    await sleepUntil(activity, at);
    while (Date.now() - at > slot.pace.lateToleranceMs) {
      at = await this.pacer.nextSlot(run.pacingKey, slot.pace.intervalMs);
      await sleepUntil(activity, at);
    }
  }
}
