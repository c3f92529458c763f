import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const module = fileURLToPath(new URL('../../src/dev/embedded-postgres.ts', import.meta.url));

/** Runs `script` (an ES module body) in a fresh Node process that can import TypeScript. */
function runNode(script: string): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('loading embedded-postgres', () => {
  // The package hooks beforeExit and exits 0 from it: a test run with failures (vitest sets
  // process.exitCode = 1) used to end with status 0, and CI passed.
  it('keeps the exit code the process chose', () => {
    const { status, output } = runNode(`
      const { loadEmbeddedPostgres } = await import(${JSON.stringify(module)});
      await loadEmbeddedPostgres();
      process.exitCode = 3;
    `);
    expect(status, output).toBe(3);
  });

  it('leaves no signal or beforeExit listener of its own behind', () => {
    const { status, output } = runNode(`
      const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'beforeExit', 'exit', 'message'];
      const count = () => events.map((event) => process.listenerCount(event)).join(',');
      const before = count();
      const { loadEmbeddedPostgres } = await import(${JSON.stringify(module)});
      await loadEmbeddedPostgres();
      console.log(before === count() ? 'same' : 'before ' + before + ' after ' + count());
    `);
    expect(status, output).toBe(0);
    expect(output.trim()).toBe('same');
  });
});
