import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { durationText, nextRunText, resultText } from '../../src/cli/commands/activations.ts';
import { fitColumnWidths, renderTable, terminalWidth, wrapText, type Column } from '../../src/cli/output.ts';
import type { RunSummary } from '../../src/domain/index.ts';
import { runSummary } from '../fixtures.ts';

interface Row {
  run: number;
  activation: string;
  status: string;
  started: string;
  scan: string;
  result: string;
  reason: string;
}

const REASON =
  'Trustpilot kept failing: 20 failures in a row (HTTP 503 from invitations-api.trustpilot.com, connection reset, timeout after 10000 ms); the rows that were not sent wait in the ledger for the next run';

const COLUMNS: Column<Row>[] = [
  { header: 'run', value: (row) => row.run, keepWords: true },
  { header: 'activation', value: (row) => row.activation, keepWords: true },
  { header: 'status', value: (row) => row.status },
  { header: 'started', value: (row) => row.started },
  { header: 'scan', value: (row) => row.scan },
  { header: 'result', value: (row) => row.result },
  { header: 'reason', value: (row) => row.reason },
];

const ROWS: Row[] = [
  { run: 1289, activation: 'demo-orders', status: 'failed', started: '2026-11-29 02:47:32Z', scan: 'full, 300 rows', result: '300 new → 117 sent, 3 rejected, 180 failed', reason: REASON },
  { run: 1288, activation: 'demo-orders', status: 'succeeded', started: '2026-11-29 02:46:32Z', scan: 'cursor, 12 rows', result: '2 new → 2 sent, 0 rejected, 0 failed', reason: '' },
];

const lines = (text: string) => text.split('\n').map((line) => stripVTControlCharacters(line));
/** The cells' text of one column, read back out of the drawn table (each line's piece, in order). */
function columnText(table: string, index: number): string {
  return lines(table)
    .filter((line) => line.startsWith('│'))
    .map((line) => (line.split('│')[index + 1] ?? '').trim())
    .filter((piece) => piece !== '')
    .join(' ');
}

describe('fitColumnWidths', () => {
  /** natural and longest-word widths of each column; `kept`: the columns whose words break last */
  const needs = (natural: number[], words: number[] = natural, kept: number[] = []) =>
    natural.map((value, index) => ({ natural: value, word: words[index] ?? 1, keepWords: kept.includes(index) }));
  const tableWidth = (widths: number[]) => widths.reduce((sum, width) => sum + width, 0) + widths.length + 1;
  const content = (widths: number[] | undefined) => widths?.map((width) => width - 2);
  // the runs table's columns: run, activation, status, started, scan, result, reason
  const natural = [4, 11, 9, 20, 15, 42, 200];
  const words = [4, 11, 9, 10, 7, 9, 14];

  it('leaves a table that fits as it is', () => {
    expect(fitColumnWidths(needs([4, 10, 20]), 80)).toBeUndefined();
    expect(fitColumnWidths(needs([4, 10, 90]), 120)).toBeUndefined();
  });

  it('narrows the widest columns first, to exactly the width of a 120-column terminal, no word broken', () => {
    const fitted = fitColumnWidths(needs(natural, words), 120);
    expect(tableWidth(fitted ?? [])).toBe(120);
    expect(content(fitted)).toEqual([4, 11, 9, 20, 15, 20, 19]);
  });

  it('on an 80-column terminal breaks the longest words, no more than needed, the kept columns last', () => {
    const fitted = fitColumnWidths(needs(natural, words, [1]), 80);
    expect(tableWidth(fitted ?? [])).toBe(80);
    expect(content(fitted)).toEqual([4, 11, 9, 9, 7, 9, 9]);
    // without a kept column, the activation id would be broken like the others
    expect(content(fitColumnWidths(needs(natural, words), 80))).toEqual([4, 9, 9, 9, 9, 9, 9]);
  });

  it('never makes a column narrower than its longest word while the words fit, and is never wider than the terminal', () => {
    const fitted = fitColumnWidths(needs([10, 10, 60], [10, 8, 12]), 40);
    expect(content(fitted)).toEqual([10, 8, 12]);
    expect(tableWidth(fitted ?? [])).toBe(40);
    expect(content(fitColumnWidths(needs([10, 10, 60], [10, 8, 12]), 36))).toEqual([9, 8, 9]);
    expect(content(fitColumnWidths(needs([10, 10, 60], [10, 8, 12], [0]), 36))).toEqual([10, 8, 8]);
    for (const width of [20, 40, 80]) expect(tableWidth(fitColumnWidths(needs([30, 30, 30], [30, 30, 30], [1]), width) ?? [])).toBe(width);
  });
});

describe('renderTable', () => {
  for (const width of [80, 120]) {
    it(`fits a ${width}-column terminal, every cell's text kept (a failure reason wraps inside its cell)`, () => {
      const table = renderTable(ROWS, COLUMNS, width);
      for (const line of lines(table)) expect(line.length, line).toBeLessThanOrEqual(width);
      // every character of the reason, in order (a word longer than the column is broken, not cut)
      expect(columnText(table, 6).replace(/\s/g, '')).toBe(`reason${REASON}`.replace(/\s/g, ''));
      expect(columnText(table, 1)).toBe('activation demo-orders demo-orders');
      expect(table.split('\n').length).toBeLessThan(width === 80 ? 40 : 20);
      expect(columnText(table, 0)).toBe('run 1289 1288');
    });
  }

  it('is as wide as its content when not fitted (output to a pipe)', () => {
    const table = renderTable(ROWS, COLUMNS);
    const row = lines(table).find((line) => line.includes('1289')) ?? '';
    expect(row).toContain(REASON);
    expect(row.length).toBeGreaterThan(200);
  });
});

describe('terminalWidth', () => {
  it('is the terminal columns, else COLUMNS, else 120; nothing when stdout is not a terminal', () => {
    expect(terminalWidth({ isTTY: true, columns: 80 }, { COLUMNS: '100' })).toBe(80);
    expect(terminalWidth({ isTTY: true }, { COLUMNS: '100' })).toBe(100);
    expect(terminalWidth({ isTTY: true }, { COLUMNS: 'wide' })).toBe(120);
    expect(terminalWidth({ isTTY: true, columns: 0 }, {})).toBe(120);
    expect(terminalWidth({ isTTY: false, columns: 80 }, { COLUMNS: '80' })).toBeUndefined();
    expect(terminalWidth({}, {})).toBeUndefined();
  });
});

describe('wrapText', () => {
  it('breaks at spaces, and inside a word only when the word alone is wider', () => {
    expect(wrapText('the consumerEmail is invalid', 12)).toBe('the\nconsumerEmai\nl is invalid');
    expect(wrapText('the consumerEmail is invalid', 14)).toBe('the\nconsumerEmail\nis invalid');
    expect(wrapText('short', 12)).toBe('short');
    expect(wrapText('ORD-000013', 4)).toBe('ORD-\n0000\n13');
  });
});

function run(overrides: Partial<RunSummary>): RunSummary {
  return runSummary({
    runId: 7,
    activationId: 'demo-orders',
    startedAt: '2026-11-29T02:47:32.000Z',
    finishedAt: '2026-11-29T02:48:03.700Z',
    sourceRows: 300,
    newRows: 300,
    sent: 297,
    rejected: 3,
    ...overrides,
  });
}

describe('run durations and results', () => {
  it('never shows a negative duration: a skipped run has none, nor has one whose clocks disagree', () => {
    expect(durationText(run({}))).toBe('31.7s');
    // a skipped run's end is stamped by the app, its start by the database: the end can come first
    expect(durationText(run({ status: 'skipped', finishedAt: '2026-11-29T02:47:31.990Z' }))).toBe('—');
    expect(durationText(run({ status: 'skipped', finishedAt: '2026-11-29T02:47:32.000Z' }))).toBe('—');
    expect(durationText(run({ status: 'failed', finishedAt: '2026-11-29T02:47:31.990Z' }))).toBe('—');
    expect(durationText(run({ finishedAt: '2026-11-29T02:47:32.000Z' }))).toBe('0.0s');
    expect(stripVTControlCharacters(durationText(run({ status: 'running', finishedAt: null })))).toBe('running');
  });

  it("marks a running run's counts as counts so far", () => {
    expect(resultText(run({}))).toBe('300 new → 297 sent, 3 rejected, 0 failed');
    expect(resultText(run({ status: 'running', finishedAt: null, sent: 40 }))).toBe('300 new → 40 sent, 3 rejected, 0 failed so far');
  });
});

describe("show's next run", () => {
  it('says a paused schedule is paused, and why', () => {
    const plain = (text: string) => stripVTControlCharacters(text);
    expect(plain(nextRunText({ paused: true, note: 'catalogue upload pending', nextRunAt: null, lastRunAt: null }))).toBe(
      'paused (reason: catalogue upload pending; `resume` brings it back)',
    );
    expect(plain(nextRunText({ paused: true, note: null, nextRunAt: null, lastRunAt: null }))).toBe('paused (no reason given; `resume` brings it back)');
    expect(plain(nextRunText({ paused: false, note: null, nextRunAt: new Date(Date.now() + 30_000).toISOString(), lastRunAt: null }))).toMatch(/^\S+Z \(in (29|30)s\)$/);
    expect(plain(nextRunText(undefined))).toBe('none: no schedule (run sync-schedules)');
  });
});
