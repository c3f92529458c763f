import type pg from 'pg';
import { needsFullScan, scanRangeFor } from '../detection/range.ts';
import { ScanSession } from '../detection/scan-session.ts';
import { maskInvitation, prepareRow, type InvitationRequest } from '../domain/index.ts';
import { readRowsByKeys } from '../source/read.ts';
import { RETRYABLE_STATUSES } from '../db/ledger-statuses.ts';
import { prepareActivation, sourceFailureOf, type PreviewDeps } from './source.ts';

export interface DryRunReport {
  activationId: string;
  /** the next run would read the whole segment (else rows at or after `cursorSince`) */
  fullScan: boolean;
  cursorSince: string | null;
  /** the next run would be the first to succeed: under `baseline`, new rows would be recorded, not invited */
  firstRunBaseline: boolean;
  scanned: { rows: number; distinctKeys: number; duplicateKeys: number; nullKeys: number; oversizedKeys: number };
  newRows: number;
  reconsideredRows: number;
  alreadySent: number;
  /** rows of earlier runs the next run would try again */
  retriedRows: number;
  sample: {
    /** new (and reconsidered) rows read and built */
    size: number;
    valid: number;
    rejected: number;
    rejectionsByReason: { reason: string; count: number }[];
    /** a few invitations as they would be sent, names and emails masked */
    examples: { rowKey: string; payload: InvitationRequest }[];
  };
}

const EXAMPLES = 3;

/**
 * What the next run would do, sending and recording nothing: the same scan and diff as a run,
 * then a sample of the new rows read and built. Nothing is written to the ledger.
 */
export async function dryRun(deps: PreviewDeps & { appPool: pg.Pool }, activationId: string, options: { sample: number }): Promise<DryRunReport> {
  const { stored, shape, limits } = await prepareActivation(deps, activationId);
  const { activation, resolved } = stored;
  const facts = await deps.db.selectFrom('app.activations').select('last_full_scan_at').where('id', '=', activationId).executeTakeFirstOrThrow();
  const succeeded = await deps.db.selectFrom('app.runs').select('id').where('activation_id', '=', activationId).where('status', '=', 'succeeded').limit(1).executeTakeFirst();
  const fullScan = needsFullScan(stored, facts.last_full_scan_at, new Date());
  const range = scanRangeFor(activation, { fullScan, watermark: stored.watermark });
  const retried = await deps.db
    .selectFrom('app.ledger')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('activation_id', '=', activationId)
    .where('status', 'in', RETRYABLE_STATUSES)
    .where('runs_attempted', '<', activation.maxRunsForFailedRows)
    .executeTakeFirstOrThrow();

  const session = await ScanSession.open(deps.appPool, deps.warehouse, shape, range, limits, deps.scanLimits ? { scanLimits: deps.scanLimits } : {});
  try {
    let stats, statuses, newKeys, changed;
    try {
      await session.load();
      stats = await session.stats();
      statuses = await session.ledgerStatuses(activationId);
      newKeys = await session.unknownKeys(activationId, options.sample);
      changed = await session.changedRejectedRows(activationId);
    } catch (error) {
      session.markBroken();
      throw sourceFailureOf(error, activation, deps.warehouse);
    }
    const changedKeys = changed.length === 0 ? [] : (await deps.db.selectFrom('app.ledger').select('row_key').where('id', 'in', changed).execute()).map((row) => row.row_key);
    const sampleKeys = [...newKeys, ...changedKeys].slice(0, options.sample);
    let rows;
    try {
      rows = await readRowsByKeys(deps.warehouse, shape, sampleKeys, limits);
    } catch (error) {
      throw sourceFailureOf(error, activation, deps.warehouse);
    }
    const reasons = new Map<string, number>();
    const examples: DryRunReport['sample']['examples'] = [];
    let valid = 0;
    for (const key of sampleKeys) {
      const prepared = prepareRow(rows.get(key), resolved);
      if (prepared.status === 'pending') {
        valid++;
        if (examples.length < EXAMPLES) examples.push({ rowKey: key, payload: maskInvitation(prepared.payload) });
      } else if (prepared.status === 'rejected') {
        // A reason names fields and rules, never values, so identical reasons group rows.
        for (const reason of prepared.reason.split('; ')) reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      }
    }
    return {
      activationId,
      fullScan: range.cursorSince === undefined,
      cursorSince: range.cursorSince ?? null,
      firstRunBaseline: succeeded === undefined && activation.firstRunPolicy === 'baseline',
      scanned: {
        rows: stats.rows,
        distinctKeys: stats.distinctKeys,
        duplicateKeys: stats.rows - stats.nullKeys - stats.oversizedKeys - stats.distinctKeys,
        nullKeys: stats.nullKeys,
        oversizedKeys: stats.oversizedKeys,
      },
      newRows: statuses.get(null) ?? 0,
      reconsideredRows: changed.length,
      alreadySent: statuses.get('sent') ?? 0,
      retriedRows: Number(retried.count),
      sample: {
        size: sampleKeys.length,
        valid,
        rejected: sampleKeys.length - valid - sampleKeys.filter((key) => !rows.has(key)).length,
        rejectionsByReason: [...reasons].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count),
        examples,
      },
    };
  } finally {
    await session.close();
  }
}
