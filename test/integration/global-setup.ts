import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { embeddedPostgresMajor, ensureReaderRole, startScratchPostgres } from '../../src/dev/embedded-postgres.ts';
import { startDevTemporalServer } from '../../src/dev/temporal-server.ts';
import { workflowsPath } from '../../src/runtime/worker.ts';
import { installTelemetry } from '../../src/runtime/telemetry.ts';
import { startMariaDb } from './mariadb-server.ts';
import { startMotoServer } from './moto-server.ts';

/** A Postgres server the boundary tests run on. */
export interface BoundaryServer {
  /** with the server's own version, e.g. 'Postgres 14.23' */
  label: string;
  adminUrl: string;
  /** the major its binaries are of, when this run started it; undefined for DATABASE_URL's */
  expectedMajor?: number;
}

declare module 'vitest' {
  export interface ProvidedContext {
    postgresAdminUrl: string;
    /** the shared server, then the oldest supported Postgres: each has the reader role */
    boundaryServers: BoundaryServer[];
    /** the least-privilege role segments are read as, on the same server */
    reader: { user: string; password: string };
    temporalAddress: string;
    workflowCode: string;
    continueAsNewThreshold: number;
    /** the MariaDB server of the MySQL engine's tests, or why none could start (those tests then fail, saying so) */
    mariaDb: { adminUrl: string; version: string } | { unavailable: string };
    /** the S3-compatible server (moto) of the files engine's tests, or why none could start (those tests then fail, saying so) */
    s3: { endpoint: string } | { unavailable: string };
  }
}

/** Small enough that every run of a few hundred rows continues as new at least once. */
export const CONTINUE_AS_NEW_THRESHOLD = 400;

/** The oldest Postgres the product supports; the shared server is the newest (or DATABASE_URL's). */
const OLDEST_SUPPORTED_MAJOR = 14;

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

async function serverVersion(adminUrl: string): Promise<string> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const result = await client.query<{ server_version: string }>('show server_version');
    // e.g. '16.4 (Debian 16.4-1.pgdg120+1)' on a packaged server
    return result.rows[0]?.server_version.split(' ')[0] ?? 'unknown';
  } finally {
    await client.end();
  }
}

/**
 * ONE real Postgres and ONE real Temporal dev server for the whole test run, and a second Postgres
 * of the oldest supported major for the tests of what the product asks of the server.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Before the servers start: a build that fails leaves nothing to stop.
  buildDistIfStale();
  installTelemetry({ logLevel: 'WARN' });
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop();
  };
  // Started alongside the rest, which it does not wait for: it only has to be up before the tests.
  const oldestPostgres = startScratchPostgres({ major: OLDEST_SUPPORTED_MAJOR }).then((postgres) => {
    stops.push(() => postgres.dispose());
    return postgres;
  });
  // Its failure is reported where it is awaited, not as an unhandled rejection meanwhile.
  oldestPostgres.catch(() => undefined);
  const mariaDb = startMariaDb().then((server) => {
    stops.push(() => server.stop());
    return { adminUrl: server.adminUrl, version: server.version };
  }, (error: unknown) => ({ unavailable: error instanceof Error ? error.message : String(error) }));
  const s3 = startMotoServer().then((server) => {
    stops.push(() => server.stop());
    return { endpoint: server.endpoint };
  }, (error: unknown) => ({ unavailable: error instanceof Error ? error.message : String(error) }));
  try {
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
    const oldest = await oldestPostgres;

    // Segments are read as a reader role in tests too: the boundary under test is the real one.
    const reader = { user: 'tpi_test_reader', password: 'tpi-test-reader' };
    await Promise.all([ensureReaderRole(postgresAdminUrl, reader.user, reader.password), ensureReaderRole(oldest.adminUrl, reader.user, reader.password)]);
    const sharedMajor = process.env.DATABASE_URL ? undefined : embeddedPostgresMajor();
    const boundaryServers: BoundaryServer[] = [
      { label: `Postgres ${await serverVersion(postgresAdminUrl)}`, adminUrl: postgresAdminUrl, ...(sharedMajor === undefined ? {} : { expectedMajor: sharedMajor }) },
      { label: `Postgres ${await serverVersion(oldest.adminUrl)}`, adminUrl: oldest.adminUrl, expectedMajor: OLDEST_SUPPORTED_MAJOR },
    ];
    project.provide('postgresAdminUrl', postgresAdminUrl);
    project.provide('boundaryServers', boundaryServers);
    project.provide('reader', reader);
    project.provide('temporalAddress', temporal.address);
    project.provide('workflowCode', bundle.code);
    project.provide('continueAsNewThreshold', CONTINUE_AS_NEW_THRESHOLD);
    project.provide('mariaDb', await mariaDb);
    project.provide('s3', await s3);
  } catch (error) {
    // Nothing started may outlive a failed setup: its teardown is never called.
    await oldestPostgres.catch(() => undefined);
    await mariaDb;
    await s3;
    await stopAll();
    throw error;
  }

  return stopAll;
}
