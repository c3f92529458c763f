import { DefaultLogger, Runtime, makeTelemetryFilterString, type LogLevel } from '@temporalio/worker';

/**
 * Keeps the SDK's own logging to warnings unless asked otherwise (TEMPORAL_LOG_LEVEL), so that
 * what the app prints stays readable. Must run before any worker or native connection is created.
 */
export function installTemporalLogging(level: LogLevel = (process.env.TEMPORAL_LOG_LEVEL as LogLevel | undefined) ?? 'WARN'): void {
  Runtime.install({
    logger: new DefaultLogger(level),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: level }) } },
  });
}
