import { describe, expect, it } from 'vitest';
import type { StoredActivation } from '../../src/db/config-store.ts';
import { baselineApplies, detectionFindings } from '../../src/detection/findings.ts';
import { needsFullScan, scanRangeFor } from '../../src/detection/range.ts';
import type { ScanStats } from '../../src/detection/scan-session.ts';
import { parseConfigs, prepareRow, type ActivationConfigInput, type FetchedRow, type PreparedRow } from '../../src/domain/index.ts';

function stored(overrides: Partial<ActivationConfigInput> = {}, watermark: string | null = null): StoredActivation {
  const result = parseConfigs(
    { id: 'acme', businessUnitId: 'bu-1', invitationType: 'service' },
    {
      id: 'orders',
      destinationId: 'acme',
      source: { kind: 'table', name: 'orders' },
      primaryKey: 'order_id',
      schedule: { every: '5m' },
      mapping: { consumerName: 'buyer_name', consumerEmail: 'buyer_email', referenceNumber: 'order_ref', locale: 'locale' },
      ...overrides,
    },
  );
  if (!result.ok) throw new Error(`expected a valid configuration, got ${JSON.stringify(result.issues)}`);
  return { destination: result.destination, activation: result.activation, resolved: result.resolved, watermark, pausedNote: null };
}

function rejectionOf(prepared: PreparedRow): { reason: string; fingerprint: string } {
  if (prepared.status !== 'rejected') throw new Error(`expected a rejected row, got ${prepared.status}`);
  return prepared;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('prepareRow', () => {
  const { resolved } = stored();

  it('forgets a row that left the segment since the scan', () => {
    expect(prepareRow(undefined, resolved)).toStrictEqual({ status: 'vanished' });
  });

  it('makes a valid row pending, with its invitation and fingerprint', () => {
    const row: FetchedRow = {
      fingerprint: '0cc175b9c0f1b6a831c399e269772661',
      values: { buyer_name: 'Zoë Ångström', buyer_email: 'zoe@example.com', order_ref: 'ORD-1001', locale: 'sv-SE' },
    };
    expect(prepareRow(row, resolved)).toStrictEqual({
      status: 'pending',
      fingerprint: '0cc175b9c0f1b6a831c399e269772661',
      payload: {
        consumerEmail: 'zoe@example.com',
        consumerName: 'Zoë Ångström',
        referenceNumber: 'ORD-1001',
        locale: 'sv-SE',
        type: 'email',
        serviceReviewInvitation: {},
      },
    });
  });

  it('rejects an invalid row with a reason that names each bad field but never its value', () => {
    const row: FetchedRow = {
      fingerprint: '92eb5ffee6ae2fec3ad71c777531578f',
      values: { buyer_name: null, buyer_email: 'zoe.angstrom(at)example.com', order_ref: 'ORD-1002', locale: 'sv-SE' },
    };
    const prepared = rejectionOf(prepareRow(row, resolved));
    expect(prepared.fingerprint).toBe('92eb5ffee6ae2fec3ad71c777531578f');
    expect(prepared.reason).toContain('consumerEmail: not a valid email address');
    expect(prepared.reason).toContain('consumerName: is required but missing');
    expect(prepared.reason).not.toContain('zoe.angstrom');
    expect(prepared.reason).not.toContain('(at)');
    expect(prepared.reason).not.toContain('ORD-1002');
  });

  it('rejects a row whose mapped column is absent, naming the field', () => {
    const prepared = rejectionOf(prepareRow({ fingerprint: 'f', values: { buyer_name: 'Zoë', order_ref: 'ORD-1003' } }, resolved));
    expect(prepared.reason).toMatch(/^consumerEmail: /);
    expect(prepared.fingerprint).toBe('f');
  });
});

describe('scanRangeFor', () => {
  const withCursor = stored({ cursor: { column: 'updated_at', lookback: '2h' } }).activation;

  it('reads the whole segment without a cursor', () => {
    expect(scanRangeFor(stored().activation, { fullScan: false, watermark: '2024-05-01T12:00:00.000Z' })).toStrictEqual({});
  });

  it('reads the whole segment before there is a watermark', () => {
    expect(scanRangeFor(withCursor, { fullScan: false, watermark: null })).toStrictEqual({});
  });

  it('reads the whole segment when the run is a full scan', () => {
    expect(scanRangeFor(withCursor, { fullScan: true, watermark: '2024-05-01T12:00:00.000Z' })).toStrictEqual({});
  });

  it('reads the whole segment when the watermark is not a time', () => {
    expect(scanRangeFor(withCursor, { fullScan: false, watermark: 'not a time' })).toStrictEqual({});
    expect(scanRangeFor(withCursor, { fullScan: false, watermark: 1714564800000 })).toStrictEqual({});
  });

  it('reads from the watermark minus the look-back otherwise', () => {
    expect(scanRangeFor(withCursor, { fullScan: false, watermark: '2024-05-01T12:00:00.000Z' })).toStrictEqual({ cursorSince: '2024-05-01T10:00:00.000Z' });
  });

  it('uses the default look-back of one day', () => {
    const activation = stored({ cursor: { column: 'updated_at' } }).activation;
    expect(scanRangeFor(activation, { fullScan: false, watermark: '2024-03-01T00:30:00.000Z' })).toStrictEqual({ cursorSince: '2024-02-29T00:30:00.000Z' });
  });

  it('reads from the watermark itself with a zero look-back, normalised to ISO in UTC', () => {
    const activation = stored({ cursor: { column: 'updated_at', lookback: '0s' } }).activation;
    expect(scanRangeFor(activation, { fullScan: false, watermark: '2024-05-01T14:00:00+02:00' })).toStrictEqual({ cursorSince: '2024-05-01T12:00:00.000Z' });
  });
});

describe('needsFullScan', () => {
  const now = new Date('2024-05-10T12:00:00.000Z');
  const watermark = '2024-05-10T11:00:00.000Z';
  const withCursor = (fullScanEvery?: string) =>
    stored({ cursor: { column: 'updated_at', ...(fullScanEvery === undefined ? {} : { fullScanEvery }) } }, watermark);

  it('is a full scan without a cursor', () => {
    expect(needsFullScan(stored({}, watermark), new Date(now.getTime() - HOUR), now)).toBe(true);
  });

  it('is a full scan without a watermark', () => {
    expect(needsFullScan(stored({ cursor: { column: 'updated_at' } }, null), new Date(now.getTime() - HOUR), now)).toBe(true);
  });

  it('is a full scan when no full scan has been recorded', () => {
    expect(needsFullScan(withCursor(), null, now)).toBe(true);
  });

  it('is a full scan once the last full scan is cursor.fullScanEvery old (default one day)', () => {
    expect(needsFullScan(withCursor(), new Date(now.getTime() - DAY), now)).toBe(true);
    expect(needsFullScan(withCursor(), new Date(now.getTime() - 3 * DAY), now)).toBe(true);
  });

  it('is not a full scan while the last full scan is younger than cursor.fullScanEvery', () => {
    expect(needsFullScan(withCursor(), new Date(now.getTime() - DAY + 1), now)).toBe(false);
    expect(needsFullScan(withCursor(), new Date(now.getTime() - HOUR), now)).toBe(false);
  });

  it('follows a configured cursor.fullScanEvery', () => {
    expect(needsFullScan(withCursor('6h'), new Date(now.getTime() - 5 * HOUR), now)).toBe(false);
    expect(needsFullScan(withCursor('6h'), new Date(now.getTime() - 7 * HOUR), now)).toBe(true);
  });

  it('reads from watermark − look-back when no full scan is due', () => {
    const activation = withCursor();
    const fullScan = needsFullScan(activation, new Date(now.getTime() - HOUR), now);
    expect(scanRangeFor(activation.activation, { fullScan, watermark: activation.watermark })).toStrictEqual({ cursorSince: '2024-05-09T11:00:00.000Z' });
  });
});

describe('baselineApplies', () => {
  it("applies only to a first run under firstRunPolicy 'baseline'", () => {
    const baseline = stored({ firstRunPolicy: 'baseline' }).activation;
    const sendAll = stored().activation;
    expect(baselineApplies(baseline, true)).toBe(true);
    expect(baselineApplies(baseline, false)).toBe(false);
    expect(baselineApplies(sendAll, true)).toBe(false);
    expect(baselineApplies(sendAll, false)).toBe(false);
  });
});

describe('detectionFindings', () => {
  const stats: ScanStats = { rows: 20, distinctKeys: 14, duplicateKeys: 3, nullKeys: 2, oversizedKeys: 1, maxCursor: null };
  const found = { stats, range: {}, recorded: 5, reconsidered: 2, alreadySent: 4 };

  it('invites the keys it recorded and the reconsidered rows', () => {
    expect(detectionFindings({ ...found, baseline: false })).toStrictEqual({
      fullScan: true,
      sourceRows: 20,
      newRows: 7,
      reconsidered: 2,
      duplicateKeys: 3,
      nullKeys: 2,
      oversizedKeys: 1,
      baselineRows: 0,
      skippedAlreadySent: 4,
    });
  });

  it('under a baseline, counts the keys it recorded as baseline and invites only the reconsidered rows', () => {
    expect(detectionFindings({ ...found, baseline: true })).toMatchObject({ newRows: 2, baselineRows: 5, reconsidered: 2 });
  });

  it('says a scan narrowed by the cursor is not a full scan', () => {
    expect(detectionFindings({ ...found, baseline: false, range: { cursorSince: '2024-05-01T10:00:00.000Z' } }).fullScan).toBe(false);
  });
});
