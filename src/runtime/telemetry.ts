import { DefaultLogger, Runtime, makeTelemetryFilterString, type LogEntry, type LogLevel } from '@temporalio/worker';
import { logger } from './logger.ts';

export interface TelemetryOptions {
  /** the SDK's own log level (TEMPORAL_LOG_LEVEL) */
  logLevel: LogLevel;
  /** `host:port` for the Prometheus endpoint (`/metrics`), or undefined for none */
  metricsBindAddress?: string;
}

const PINO_LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** The SDK's log lines go through the app's logger, so its redaction applies to them too. */
function toAppLogger(entry: LogEntry): void {
  logger[PINO_LEVELS[entry.level]]({ ...entry.meta, source: 'temporal' }, entry.message);
}

/**
 * Installs the SDK's runtime: its logging (through the app's logger, at TEMPORAL_LOG_LEVEL) and
 * its Prometheus metrics, which the activities' own counters join. Must run before any worker or
 * native connection is created.
 */
export function installTelemetry(options: TelemetryOptions): void {
  Runtime.install({
    logger: new DefaultLogger(options.logLevel, toAppLogger),
    telemetryOptions: {
      logging: { filter: makeTelemetryFilterString({ core: options.logLevel }), forward: {} },
      ...(options.metricsBindAddress ? { metrics: { prometheus: { bindAddress: options.metricsBindAddress, countersTotalSuffix: true } } } : {}),
    },
  });
}
