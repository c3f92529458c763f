import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities/index.ts';
import { redactFailuresInterceptor } from '../activities/redact-failures.ts';
import type { AppEnv } from '../config/env.ts';
import { StartupError } from './services.ts';

// Beside this file: index.ts when running from source, index.js when compiled.
export const workflowsPath = fileURLToPath(new URL(`../workflows/index${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));

/** Written by `npm run build` beside the compiled code; absent when running from source. */
export const prebuiltWorkflowBundlePath = fileURLToPath(new URL('../workflow-bundle.js', import.meta.url));

/**
 * Worker tuning for many short activities in flight (one per invitation): enough pollers to keep
 * them flowing. Eager dispatch stays at the SDK's default (a few per workflow task): more would
 * hand nearly every send to the worker that runs the workflow, and more workers would not add
 * throughput. The benchmark's no-op ceiling runs with the same tuning, so the comparison is like
 * for like.
 */
export const WORKER_TUNING = {
  maxConcurrentActivityTaskExecutions: 200,
  maxConcurrentActivityTaskPolls: 20,
  // A run's workflow is small; a few hundred cached executions are plenty and keep memory flat.
  maxCachedWorkflows: 200,
} as const;

export interface AppWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  /** prebuilt workflow code (tests build it once); otherwise the build's bundle, or bundled at start from source */
  workflowBundle?: WorkerOptions['workflowBundle'];
  maxConcurrentActivityTaskExecutions?: number;
  /** how long a shutdown lets in-flight activities finish before cancelling them (SDK default: 0) */
  shutdownGraceTimeMs?: number;
}

function workflowCode(options: AppWorkerOptions): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  if (options.workflowBundle) return { workflowBundle: options.workflowBundle };
  if (existsSync(prebuiltWorkflowBundlePath)) return { workflowBundle: { codePath: prebuiltWorkflowBundlePath } };
  return { workflowsPath };
}

export async function connectWorker(env: AppEnv): Promise<NativeConnection> {
  const address = env.TEMPORAL_ADDRESS ?? 'localhost:7233';
  try {
    return await NativeConnection.connect({ address });
  } catch (error) {
    throw new StartupError(`TEMPORAL_ADDRESS=${address}: cannot reach the Temporal frontend (is the server running and the address right?): ${error instanceof Error ? error.message : String(error)}`);
  }
}

export async function createAppWorker(options: AppWorkerOptions): Promise<Worker> {
  return await Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...workflowCode(options),
    activities: createActivities(options.deps),
    interceptors: { activity: [redactFailuresInterceptor] },
    ...WORKER_TUNING,
    ...(options.maxConcurrentActivityTaskExecutions === undefined ? {} : { maxConcurrentActivityTaskExecutions: options.maxConcurrentActivityTaskExecutions }),
    ...(options.shutdownGraceTimeMs === undefined ? {} : { shutdownGraceTime: options.shutdownGraceTimeMs }),
  });
}
