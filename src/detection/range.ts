import { parseDuration, type ActivationConfig } from '../domain/index.ts';
import type { ScanRange } from '../source/types.ts';

/**
 * Which rows a scan reads: all of them for a full scan (no cursor, no watermark yet, or the last
 * full scan older than `cursor.fullScanEvery`), else rows at or after (watermark − look-back) and
 * rows without a cursor value. The cursor narrows the scan; the ledger decides what is new.
 */
export function scanRangeFor(activation: ActivationConfig, run: { fullScan: boolean; watermark: unknown }): ScanRange {
  const { cursor } = activation;
  if (run.fullScan || !cursor || typeof run.watermark !== 'string') return {};
  const watermark = Date.parse(run.watermark);
  if (Number.isNaN(watermark)) return {};
  return { cursorSince: new Date(watermark - parseDuration(cursor.lookback)).toISOString() };
}

/** Whether a run now reads the whole segment: no cursor, no watermark yet, or the last full scan is older than `cursor.fullScanEvery`. */
export function needsFullScan(stored: { activation: ActivationConfig; watermark: string | null }, lastFullScanAt: Date | null, now: Date): boolean {
  const { cursor } = stored.activation;
  if (!cursor || stored.watermark === null || lastFullScanAt === null) return true;
  return now.getTime() - lastFullScanAt.getTime() >= parseDuration(cursor.fullScanEvery);
}
