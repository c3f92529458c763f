import { readEnv } from './config/env.ts';
import { createAppWorker } from './runtime/worker.ts';
import { activityDepsFor, connectWorker, openServices } from './runtime/services.ts';
import { logger } from './runtime/logger.ts';
import { installTemporalLogging } from './runtime/temporal-logging.ts';

/** Production worker: connects to the configured Postgres and Temporal and serves the task queue. */
async function main(): Promise<void> {
  const env = readEnv();
  installTemporalLogging(process.env.TEMPORAL_LOG_LEVEL ? undefined : 'INFO');
  const services = await openServices(env, { migrate: true });
  const connection = await connectWorker(env);
  try {
    const worker = await createAppWorker({
      connection,
      namespace: env.TEMPORAL_NAMESPACE,
      taskQueue: env.TEMPORAL_TASK_QUEUE,
      deps: activityDepsFor(services, env),
      // SIGTERM (a deploy, `docker stop`) lets calls in flight finish and record their outcome:
      // cancelled mid-call, they would be left in doubt and possibly sent twice. Under docker's 10 s.
      shutdownGraceTimeMs: 8_000,
    });
    logger.info({ taskQueue: env.TEMPORAL_TASK_QUEUE, namespace: env.TEMPORAL_NAMESPACE }, 'worker started');
    await worker.run();
  } finally {
    await connection.close();
    await services.close();
  }
}

main().catch((error: unknown) => {
  logger.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
