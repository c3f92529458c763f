import { PassThrough } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { resultLines, watchWithBar } from '../../src/cli/commands/runs.ts';
import type { RunSummary } from '../../src/domain/index.ts';
import type { RunProgress } from '../../src/run/types.ts';
import { runSummary } from '../fixtures.ts';

const STARTED = new Date(Date.now() - 10_000).toISOString();

function progress(phase: RunProgress['phase'], toHandle: number, sent: number, rejected = 0, failed = 0): RunProgress {
  return { runId: 12, activationId: 'demo-orders', phase, execution: 1, startedAt: STARTED, toHandle, sent, rejected, failed, inFlight: 1, stopped: null };
}

function summary(overrides: Partial<RunSummary>): RunSummary {
  return runSummary({
    runId: 12,
    activationId: 'demo-orders',
    startedAt: STARTED,
    finishedAt: new Date().toISOString(),
    sourceRows: 40,
    newRows: 40,
    sent: 39,
    rejected: 1,
    ...overrides,
  });
}

/**
 * Watches a run whose progress query answers `answers` in turn (undefined: not answering yet), and
 * which ends with `ended` once they are used up; returns every line the bar drew.
 */
async function watch(answers: (RunProgress | undefined)[], ended: RunSummary | undefined): Promise<string[]> {
  const stream = new PassThrough();
  let output = '';
  stream.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  let finish: (value: RunSummary | undefined) => void = () => undefined;
  const done = new Promise<RunSummary | undefined>((resolve) => (finish = resolve));
  const queue = [...answers];
  const handle = {
    progress(): Promise<RunProgress> {
      const answer = queue.shift();
      if (queue.length === 0) setTimeout(() => finish(ended), 20);
      return answer ? Promise.resolve(answer) : Promise.reject(new Error('not answering yet'));
    },
  };
  // Not a terminal, so that every drawing of the bar is a line of its own.
  await watchWithBar(handle, done, { pollMs: 10, bar: { stream, noTTYOutput: true, notTTYSchedule: 2 } });
  return output
    .split('\n')
    .map((line) => stripVTControlCharacters(line).trim())
    .filter((line) => line !== '');
}

describe("run's progress bar", () => {
  it('shows a scanning state, not 0/1, until the total is known, and ends on the result counts', async () => {
    const lines = await watch(
      [undefined, progress('detecting', 0, 0), progress('detecting', 0, 0), progress('sending', 40, 12), progress('sending', 40, 30, 1), progress('sending', 40, 38, 1)],
      summary({}),
    );
    const firstCount = lines.findIndex((line) => /\d+\/\d+/.test(line));
    expect(firstCount, lines.join('\n')).toBeGreaterThan(0);
    for (const line of lines.slice(0, firstCount)) expect(line).toMatch(/^(starting|scanning the segment)… \d+s$/);
    expect(lines.some((line) => line.startsWith('scanning the segment'))).toBe(true);
    expect(lines.join('\n')).not.toMatch(/\b0\/1\b/);
    for (const line of lines.slice(firstCount)) expect(line).toMatch(/ \d+\/40 \| /);
    // the last poll saw 39 of 40; the bar ends on the run's result, 40 of 40
    expect(lines.at(-1)).toMatch(/ succeeded 40\/40 \| sent 39 · rejected 1 · failed 0 \| [\d.]+\/s \| /);
  });

  it('a run that stopped early ends on how far it got, against the total it had', async () => {
    const lines = await watch([progress('detecting', 0, 0), progress('sending', 40, 10)], summary({ status: 'failed', sent: 10, rejected: 0, failed: 5, error: 'Trustpilot is unavailable' }));
    expect(lines.at(-1)).toMatch(/ failed 15\/40 \| sent 10 · rejected 0 · failed 5 \| /);
  });

  it('a run that ended before answering (skipped, or failed at once) leaves no 0/1 behind', async () => {
    const lines = await watch([undefined], summary({ status: 'skipped', sent: 0, rejected: 0, failed: 0, newRows: 0 }));
    expect(lines.join('\n')).not.toMatch(/\b0\/1\b/);
    expect(lines.at(-1)).toMatch(/ skipped 0\/0 \| /);
  });
});

describe("run's result line", () => {
  it('is followed by the run warnings, one a line', () => {
    const warnings = ['2 row(s) have no primary key value and cannot be tracked: not sent', '1 row(s) repeat a key already in the segment: only one row per key is sent'];
    const lines = stripVTControlCharacters(resultLines(summary({ nullKeys: 2, duplicateKeys: 1, warnings }))).split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^\[\S+\] run 12 demo-orders succeeded in [\d.]+s: new 40 \/ sent 39 \/ rejected 1 \/ failed 0 \(/);
    expect(lines.slice(1)).toEqual(warnings.map((warning) => `  warning: ${warning}`));
    expect(stripVTControlCharacters(resultLines(summary({})))).not.toContain('\n');
  });
});
