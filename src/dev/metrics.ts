import type { AppEnv } from '../config/env.ts';
import { installTelemetry } from '../runtime/telemetry.ts';
import { freePort, portInUse } from './free-port.ts';
import { DEFAULT_METRICS_PORT, LOOPBACK } from './settings.ts';
import { StartError } from './start-errors.ts';

export interface Metrics {
  /** host:port, or undefined when METRICS_BIND_ADDRESS=off */
  address?: string;
  /** why it is not the documented default, when it is not */
  note?: string;
}

/**
 * Where the worker serves Prometheus metrics: METRICS_BIND_ADDRESS as given, else the worker's
 * default 127.0.0.1:9464, or a free port when that one is taken (by a production worker, say).
 */
export async function chooseMetrics(env: AppEnv): Promise<Metrics> {
  if ((process.env.METRICS_BIND_ADDRESS ?? '').trim() !== '') return env.METRICS_BIND_ADDRESS ? { address: env.METRICS_BIND_ADDRESS } : {};
  if (!(await portInUse(DEFAULT_METRICS_PORT))) return { address: `${LOOPBACK}:${DEFAULT_METRICS_PORT}` };
  return { address: `${LOOPBACK}:${await freePort()}`, note: `${DEFAULT_METRICS_PORT} is in use` };
}

/** Installs the SDK's runtime with the metrics endpoint; before any native connection or dev server. */
export async function installDevTelemetry(env: AppEnv, metrics: Metrics): Promise<Metrics> {
  const logLevel = env.TEMPORAL_LOG_LEVEL ?? 'ERROR';
  try {
    installTelemetry({ logLevel, ...(metrics.address ? { metricsBindAddress: metrics.address } : {}) });
    return metrics;
  } catch (error) {
    if ((process.env.METRICS_BIND_ADDRESS ?? '').trim() !== '') {
      throw new StartError(`METRICS_BIND_ADDRESS=${metrics.address ?? ''}: cannot serve metrics there (is the port in use?); choose another host:port, or 'off'`, { cause: error });
    }
  }
  // Taken between the look and the bind: once more, on a port nobody holds now.
  const retry = { address: `${LOOPBACK}:${await freePort()}`, note: metrics.note ?? `${DEFAULT_METRICS_PORT} is in use` };
  installTelemetry({ logLevel, metricsBindAddress: retry.address });
  return retry;
}
