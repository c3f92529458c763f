import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { startScratchPostgres } from '../../src/dev/embedded-postgres.ts';
import { startDevTemporalServer } from '../../src/dev/temporal-server.ts';
import { workflowsPath } from '../../src/runtime/worker.ts';
import { installTemporalLogging } from '../../src/runtime/temporal-logging.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresAdminUrl: string;
    temporalAddress: string;
    workflowCode: string;
    continueAsNewThreshold: number;
  }
}

/** Small enough that every run of a few hundred rows continues as new at least once. */
export const CONTINUE_AS_NEW_THRESHOLD = 400;


/** ONE real Postgres and ONE real Temporal dev server for the whole test run. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  installTemporalLogging();
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

  project.provide('postgresAdminUrl', postgresAdminUrl);
  project.provide('temporalAddress', temporal.address);
  project.provide('workflowCode', bundle.code);
  project.provide('continueAsNewThreshold', CONTINUE_AS_NEW_THRESHOLD);

  return async () => {
    for (const stop of stops.reverse()) await stop();
  };
}
