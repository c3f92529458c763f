import type pg from 'pg';
import type { KeyedRow } from '../source/types.ts';
import { countEarlierRows, earlierRowsToBuild } from '../db/earlier-rows.ts';
import { isFirstRun } from '../db/runs.ts';
import { baselineApplies, detectionFindings, diffWithLedger, unknownKeys } from '../detection/findings.ts';
import { needsFullScan, scanRangeFor } from '../detection/range.ts';
import { ScanSession } from '../detection/scan-session.ts';
import { maskInvitation, prepareRow, type InvitationRequest, type ResolvedActivation } from '../domain/index.ts';
import { prepareActivation, sourceFailureOf, type PreviewDeps } from './source.ts';

/**
 * What the next run would do. Each count means what the run summary's field of the same meaning
 * means (named beside it), and is worked out by the code the run decides with.
 */
export interface DryRunReport {
  activationId: string;
  /** the next run would read the whole segment (else rows at or after `cursorSince`): the run's `fullScan` */
  fullScan: boolean;
  cursorSince: string | null;
  /** the next run would be the first to succeed: under `baseline`, new keys would be recorded, not invited */
  firstRunBaseline: boolean;
  /** the run's `sourceRows`, `duplicateKeys`, `nullKeys`, `oversizedKeys` */
  scanned: { rows: number; distinctKeys: number; duplicateKeys: number; nullKeys: number; oversizedKeys: number };
  /** rows the run would invite from its scan: keys the ledger does not know (none on a first run under `baseline`) plus reconsidered rows; the run's `newRows` */
  newRows: number;
  /** keys the ledger does not know that a first run under `baseline` would record without inviting: the run's `baselineRows` */
  baselineRows: number;
  /** rejected rows whose data changed since, to be built again (part of `newRows`): the run's `reconsidered` */
  reconsideredRows: number;
  /** scanned keys already sent, never sent again: the run's `skippedAlreadySent` */
  alreadySent: number;
  /** rows of earlier runs the next run would try again: the run's `retriedRows` */
  retriedRows: number;
  /** rows of earlier runs that have had `maxRunsForFailedRows` runs: the next run gives them up (the run's `abandoned`) */
  abandonedRows: number;
  sample: {
    /** rows the run would read and build (new, reconsidered, and earlier rows never built), up to the sample size */
    size: number;
    valid: number;
    /** what the run's `rejected` would count of these rows */
    rejected: number;
    rejectionsByReason: { reason: string; count: number }[];
    /** a few invitations as they would be sent, names and emails masked */
    examples: { rowKey: string; payload: InvitationRequest }[];
  };
}

const EXAMPLES = 3;

/**
 * What the next run would do, sending and recording nothing: the same scan and diff as a run,
 * then a sample of the rows it would build, read and built as it would. Nothing is written to
 * the ledger.
 */
export async function dryRun(deps: PreviewDeps & { appPool: pg.Pool }, activationId: string, options: { sample: number }): Promise<DryRunReport> {
  const { stored, source, shape, limits } = await prepareActivation(deps, activationId);
  const { activation, resolved } = stored;
  const facts = await deps.db.selectFrom('app.activations').select('last_full_scan_at').where('id', '=', activationId).executeTakeFirstOrThrow();
  const baseline = baselineApplies(activation, await isFirstRun(deps.db, activationId));
  const range = scanRangeFor(activation, { fullScan: needsFullScan(stored, facts.last_full_scan_at, new Date()), watermark: stored.watermark });
  const earlier = await countEarlierRows(deps.db, activation);

  const session = await ScanSession.open({ pool: deps.appPool, db: deps.db }, source, shape, range, limits, deps.scanLimits ? { scanLimits: deps.scanLimits } : {});
  try {
    let stats, diff, newKeys, changed;
    try {
      await session.load();
      stats = await session.stats();
      diff = await diffWithLedger(session, activationId);
      newKeys = baseline ? [] : await unknownKeys(session, activationId, options.sample);
      changed = await session.changedRejectedRows(activationId);
    } catch (error) {
      session.markBroken();
      throw sourceFailureOf(error, activation, source);
    }
    const found = detectionFindings({ stats, range, baseline, recorded: diff.unknown, reconsidered: changed.length, alreadySent: diff.alreadySent });
    const changedKeys = changed.length === 0 ? [] : (await deps.db.selectFrom('app.ledger').select('row_key').where('id', 'in', changed).orderBy('id').execute()).map((row) => row.row_key);
    const sampleKeys = [...newKeys, ...changedKeys].slice(0, options.sample);
    sampleKeys.push(...(await earlierRowsToBuild(deps.db, activation, options.sample - sampleKeys.length)));
    let rows;
    try {
      rows = await source.readRows(shape, sampleKeys, limits);
    } catch (error) {
      throw sourceFailureOf(error, activation, source);
    }
    return {
      activationId,
      fullScan: found.fullScan,
      cursorSince: range.cursorSince ?? null,
      firstRunBaseline: baseline,
      scanned: { rows: found.sourceRows, distinctKeys: stats.distinctKeys, duplicateKeys: found.duplicateKeys, nullKeys: found.nullKeys, oversizedKeys: found.oversizedKeys },
      newRows: found.newRows,
      baselineRows: found.baselineRows,
      reconsideredRows: found.reconsidered,
      alreadySent: found.skippedAlreadySent,
      retriedRows: earlier.retried,
      abandonedRows: earlier.abandoned,
      sample: buildSample(sampleKeys, rows, resolved),
    };
  } finally {
    await session.close();
  }
}

/** The sample's rows built as a claim builds them; rows gone since the scan count neither as valid nor as rejected. */
function buildSample(keys: string[], rows: ReadonlyMap<string, KeyedRow>, resolved: ResolvedActivation): DryRunReport['sample'] {
  const reasons = new Map<string, number>();
  const examples: DryRunReport['sample']['examples'] = [];
  let valid = 0;
  let rejected = 0;
  for (const key of keys) {
    const prepared = prepareRow(rows.get(key), resolved);
    if (prepared.status === 'pending') {
      valid++;
      if (examples.length < EXAMPLES) examples.push({ rowKey: key, payload: maskInvitation(prepared.payload) });
    } else if (prepared.status === 'rejected') {
      rejected++;
      // A reason names fields and rules, never values, so identical reasons group rows.
      for (const reason of prepared.reason.split('; ')) reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    }
  }
  return {
    size: keys.length,
    valid,
    rejected,
    rejectionsByReason: [...reasons].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count),
    examples,
  };
}
