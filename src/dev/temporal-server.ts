import { TestWorkflowEnvironment } from '@temporalio/testing';
import { allSearchAttributes } from '../temporal/search-attributes.ts';
import { findTemporalCli, type TemporalCliLocation } from './temporal-cli.ts';

export interface DevTemporalServer {
  address: string;
  namespace: string;
  cli: TemporalCliLocation;
  stop(): Promise<void>;
}

export interface DevTemporalServerOptions {
  namespace?: string;
  /** SQLite file; omitted = in memory */
  dbFilename?: string;
  port?: number;
  /** omitted = no UI */
  uiPort?: number;
  /** dev-server dynamic config, e.g. { 'limit.historyCount.suggestContinueAsNew': 200 } */
  dynamicConfig?: Record<string, string | number | boolean>;
  /** more `temporal server start-dev` arguments, e.g. ['--metrics-port', '9000'] */
  extraArgs?: string[];
}

/** Starts the Temporal dev server (the CLI's `server start-dev`) with this app's search attributes. */
export async function startDevTemporalServer(options: DevTemporalServerOptions = {}): Promise<DevTemporalServer> {
  const cli = findTemporalCli();
  const namespace = options.namespace ?? 'default';
  const extraArgs = [
    ...Object.entries(options.dynamicConfig ?? {}).flatMap(([key, value]) => ['--dynamic-config-value', `${key}=${JSON.stringify(value)}`]),
    ...(options.extraArgs ?? []),
  ];
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: cli.source === 'SDK download' ? { type: 'cached-download' } : { type: 'existing-path', path: cli.path },
      namespace,
      ...(options.dbFilename ? { dbFilename: options.dbFilename } : {}),
      ...(options.port ? { port: options.port } : {}),
      ...(options.uiPort ? { ui: true, uiPort: options.uiPort } : {}),
      searchAttributes: allSearchAttributes,
      // The server's own warnings (e.g. schedule catch-up notes after a restart) are not the app's output.
      log: { format: 'pretty', level: 'error' },
      extraArgs,
    },
  });
  return {
    address: env.address,
    namespace,
    cli,
    stop: () => env.teardown(),
  };
}
