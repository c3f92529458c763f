import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { workflowsPath } from '../../src/runtime/worker.ts';

/**
 * Deploys must not wedge runs in flight: the current workflow code replays histories of real runs
 * recorded with the code in production (scripts/record-histories.ts): sends with retries and
 * continue-as-new, a skipped start, a misconfigured run, a missing source, the circuit breaker.
 * A change that is not deterministic against them fails here; guard it with patched() (README,
 * "Deploying safely").
 */
const HISTORIES = fileURLToPath(new URL('../replay/histories/', import.meta.url));
const files = readdirSync(HISTORIES).filter((file) => file.endsWith('.json')).sort();

describe('replaying recorded runs with the current workflow code', () => {
  let code: string;

  beforeAll(async () => {
    const bundle = await bundleWorkflowCode({ workflowsPath, logger: { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined } });
    code = bundle.code;
  }, 60_000);

  it('has histories to replay, of every path', () => {
    expect(files.map((file) => file.replace(/-\d+\.json$/, ''))).toEqual(
      expect.arrayContaining(['sends-with-retries-and-continue-as-new', 'skipped-while-another-runs', 'misconfigured-business-user', 'missing-source-table', 'circuit-breaker']),
    );
    // The long run continued as new: its later executions start from carried state.
    expect(files.filter((file) => file.startsWith('sends-with-retries-and-continue-as-new')).length).toBeGreaterThan(1);
  });

  it.each(files)('replays %s without a nondeterminism error', async (file) => {
    // The replayer reads the JSON form the Temporal CLI and UI export.
    const history = JSON.parse(readFileSync(`${HISTORIES}${file}`, 'utf8')) as unknown;
    await expect(Worker.runReplayHistory({ workflowBundle: { code } }, history, file)).resolves.toBeUndefined();
  }, 60_000);
});
