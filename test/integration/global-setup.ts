import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { ensureReaderRole, startScratchPostgres } from '../../src/dev/embedded-postgres.ts';
import { startDevTemporalServer } from '../../src/dev/temporal-server.ts';
import { workflowsPath } from '../../src/runtime/worker.ts';
import { installTelemetry } from '../../src/runtime/telemetry.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresAdminUrl: string;
    /** the least-privilege role segments are read as, on the same server */
    reader: { user: string; password: string };
    temporalAddress: string;
    workflowCode: string;
    continueAsNewThreshold: number;
  }
}

/** Small enough that every run of a few hundred rows continues as new at least once. */
export const CONTINUE_AS_NEW_THRESHOLD = 400;

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Tests spawn the compiled command line (dist/cli/main.js): bring dist/ up to date first, so they
 * never run yesterday's build. Returns at once when nothing changed; fails the run with the
 * build's own output (type errors included) when it does not build.
 */
function buildDistIfStale(): void {
  try {
    const output = execFileSync(process.execPath, ['scripts/build.mjs', '--if-stale'], {
      cwd: repoRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (output.trim() !== '') process.stdout.write(output);
  } catch (error) {
    const failed = error as { status?: number | null; signal?: string | null; stdout?: string; stderr?: string };
    const output = `${failed.stdout ?? ''}${failed.stderr ?? ''}`.trim();
    throw new Error(
      `node scripts/build.mjs --if-stale failed (${failed.status ?? failed.signal ?? 'no exit status'}), so dist/ is not up to date:\n${output || String(error)}`,
      { cause: error },
    );
  }
}

/** ONE real Postgres and ONE real Temporal dev server for the whole test run. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Before the servers start: a build that fails leaves nothing to stop.
  buildDistIfStale();
  installTelemetry({ logLevel: 'WARN' });
  const stops: (() => Promise<void>)[] = [];
  let postgresAdminUrl = process.env.DATABASE_URL;
  if (!postgresAdminUrl) {
    const postgres = await startScratchPostgres();
    postgresAdminUrl = postgres.adminUrl;
    stops.push(() => postgres.dispose());
  }
  const [temporal, bundle] = await Promise.all([
    startDevTemporalServer({
      dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': CONTINUE_AS_NEW_THRESHOLD },
    }),
    bundleWorkflowCode({ workflowsPath, logger: { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: (message) => console.error(message) } }),
  ]);
  stops.push(() => temporal.stop());

  // Segments are read as a reader role in tests too: the boundary under test is the real one.
  const reader = { user: 'tpi_test_reader', password: 'tpi-test-reader' };
  await ensureReaderRole(postgresAdminUrl, reader.user, reader.password);
  project.provide('postgresAdminUrl', postgresAdminUrl);
  project.provide('reader', reader);
  project.provide('temporalAddress', temporal.address);
  project.provide('workflowCode', bundle.code);
  project.provide('continueAsNewThreshold', CONTINUE_AS_NEW_THRESHOLD);

  return async () => {
    for (const stop of stops.reverse()) await stop();
  };
}
