import { readEnv } from '../config/env.ts';
import { claimDeployment } from '../db/deployment.ts';
import { PublicError } from '../domain/public-error.ts';
import { activityDepsFor, openServices, StartupError } from '../runtime/services.ts';
import { logger } from '../runtime/logger.ts';
import { installTelemetry } from '../runtime/telemetry.ts';
import { connectWorker, createAppWorker } from '../runtime/worker.ts';
import { missingSearchAttributes } from '../temporal/search-attributes.ts';

/**
 * Production worker: checks that Postgres, the warehouse (as a least-privilege reader) and
 * Temporal are reachable and right, then serves the task queue until SIGINT/SIGTERM.
 */
async function main(): Promise<void> {
  const env = readEnv();
  try {
    installTelemetry({ logLevel: env.TEMPORAL_LOG_LEVEL ?? 'WARN', ...(env.METRICS_BIND_ADDRESS ? { metricsBindAddress: env.METRICS_BIND_ADDRESS } : {}) });
  } catch {
    throw new StartupError(`METRICS_BIND_ADDRESS=${env.METRICS_BIND_ADDRESS ?? ''}: cannot serve metrics there (is the port in use?); choose another host:port, or 'off'`);
  }
  const services = await openServices(env, { migrate: true, checkReader: true });
  try {
    await claimDeployment(services.db, 'production');
    const missing = await missingSearchAttributes(services.temporal, env.TEMPORAL_NAMESPACE);
    if (missing.length > 0) {
      throw new StartupError(
        `TEMPORAL_NAMESPACE=${env.TEMPORAL_NAMESPACE} lacks the search attributes runs record their outcome in (${missing.join(', ')}): run \`npm run cli -- register-search-attributes\` (in an image: \`node dist/cli/main.js register-search-attributes\`) once`,
      );
    }
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
      logger.info(
        { taskQueue: env.TEMPORAL_TASK_QUEUE, namespace: env.TEMPORAL_NAMESPACE, metrics: env.METRICS_BIND_ADDRESS ? `http://${env.METRICS_BIND_ADDRESS}/metrics` : 'off' },
        'worker started',
      );
      await worker.run();
      logger.info('worker stopped');
    } finally {
      await connection.close();
    }
  } finally {
    await services.close();
  }
}

main().catch((error: unknown) => {
  // Startup problems name the variable to fix; anything else is reported by type, not by message.
  const message = error instanceof PublicError ? error.message : error instanceof Error ? `unexpected ${error.name}` : String(error);
  // LOG_LEVEL=silent must not make a refused start a silent exit.
  if (logger.isLevelEnabled('fatal')) logger.fatal({ err: error }, message);
  else process.stderr.write(`worker: ${message}\n`);
  process.exit(1);
});
