import { sql } from 'kysely';
import type { ActivationConfig } from '../domain/index.ts';
import type { DetectResult } from '../run/types.ts';
import type { ScanRange } from '../source/types.ts';
import type { ScanSession, ScanStats } from './scan-session.ts';

/**
 * What a scan finds against the ledger, and how a run records it. A run (activities/detect.ts)
 * and a dry-run (preview/dry-run.ts) both count through these, so what a preview announces is
 * what the run decides.
 */

/** A first run under `firstRunPolicy: 'baseline'` records the rows it finds as seen, and invites none of them. */
export function baselineApplies(activation: Pick<ActivationConfig, 'firstRunPolicy'>, firstRun: boolean): boolean {
  return firstRun && activation.firstRunPolicy === 'baseline';
}

/** Every scanned key beside its ledger row, if it has one. */
const keysAgainstLedger = (activationId: string) => sql`tpi_keys k left join app.ledger l on l.activation_id = ${activationId} and l.row_key = k.row_key`;
// `load()` leaves a NULL key for rows without one and for keys too long for the ledger: never tracked.
const TRACKED = sql`k.row_key is not null`;
// Tested on a column of the join condition, so the planner makes this an anti-join.
const UNKNOWN = sql`l.row_key is null`;
const ALREADY_SENT = sql`l.status = 'sent'`;

export interface LedgerDiff {
  /** keys the ledger does not know: the run records them */
  unknown: number;
  /** keys already sent: never sent again, whatever changed */
  alreadySent: number;
}

export async function diffWithLedger(session: ScanSession, activationId: string): Promise<LedgerDiff> {
  const [diff] = await session.query(
    sql<{ unknown: number; already_sent: number }>`
      select count(*) filter (where ${UNKNOWN})::int as unknown, count(*) filter (where ${ALREADY_SENT})::int as already_sent
        from ${keysAgainstLedger(activationId)} where ${TRACKED}`,
  );
  return { unknown: diff?.unknown ?? 0, alreadySent: diff?.already_sent ?? 0 };
}

/** The first `limit` keys the ledger does not know, in key order. */
export async function unknownKeys(session: ScanSession, activationId: string, limit: number): Promise<string[]> {
  if (limit <= 0) return [];
  const rows = await session.query(
    sql<{ row_key: string }>`select k.row_key from ${keysAgainstLedger(activationId)} where ${TRACKED} and ${UNKNOWN} order by k.row_key limit ${limit}`,
  );
  return rows.map((row) => row.row_key);
}

/** Records every unknown key in the ledger, as 'baseline' or as 'new' to invite; returns how many. */
export async function recordUnknownKeys(session: ScanSession, found: { activationId: string; runId: number; baseline: boolean }): Promise<number> {
  const status = found.baseline ? 'baseline' : 'new';
  return await session.execute(
    sql`insert into app.ledger (activation_id, row_key, status, first_run_id, last_run_id)
        select ${found.activationId}, k.row_key, ${status}, ${found.runId}, ${found.runId} from ${keysAgainstLedger(found.activationId)}
         where ${TRACKED} and ${UNKNOWN}
        on conflict (activation_id, row_key) do nothing`,
  );
}

/** Rejected rows whose data changed (`ScanSession.changedRejectedRows`) become 'new' again, to be read and built anew. */
export async function reconsiderRejected(session: ScanSession, ledgerIds: readonly number[], runId: number): Promise<number> {
  if (ledgerIds.length === 0) return 0;
  return await session.execute(
    sql`update app.ledger set status = 'new', fingerprint = null, error_class = null, error_message = null, last_run_id = ${runId}, updated_at = now()
         where id = any(${[...ledgerIds]}::bigint[]) and status = 'rejected'`,
  );
}

/**
 * The run's detection counts. `recorded` and `reconsidered` are the rows the run wrote (a dry-run:
 * would write); rows recorded as baseline are not invited, reconsidered ones are.
 */
export function detectionFindings(found: {
  stats: ScanStats;
  range: ScanRange;
  baseline: boolean;
  recorded: number;
  reconsidered: number;
  alreadySent: number;
}): DetectResult {
  const { stats, baseline, recorded, reconsidered } = found;
  return {
    fullScan: found.range.cursorSince === undefined,
    sourceRows: stats.rows,
    newRows: (baseline ? 0 : recorded) + reconsidered,
    reconsidered,
    duplicateKeys: stats.duplicateKeys,
    nullKeys: stats.nullKeys,
    oversizedKeys: stats.oversizedKeys,
    baselineRows: baseline ? recorded : 0,
    skippedAlreadySent: found.alreadySent,
  };
}
