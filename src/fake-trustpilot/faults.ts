/**
 * Fault injection: validation of a FakeFaults value, a pre-computed plan so the per-request
 * decision is one Math.random() and a short scan, and the answers a failing Trustpilot
 * (or the CDN in front of it) gives: JSON, HTML or nothing at all.
 */
import { INVALID_ACCESS_TOKEN_BODY, QUOTA_VIOLATION_BODY } from './error-bodies.ts';
import { isPlainObject } from './http-io.ts';
import type { FakeFaults } from './types.ts';

export class InvalidFaultsError extends Error {}

function isProbability(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 1;
}

/** Checks an untrusted value (admin route, programmatic call) and returns a clean copy. */
export function parseFaults(input: unknown): FakeFaults {
  if (!isPlainObject(input)) throw new InvalidFaultsError('faults must be an object');
  const known = new Set(['errorRates', 'latencyMs', 'acceptThenDropRate', 'retryAfterSeconds', 'errorBodies']);
  for (const key of Object.keys(input)) if (!known.has(key)) throw new InvalidFaultsError(`unknown faults field '${key}'`);

  const faults: FakeFaults = {};
  if (input.errorRates !== undefined) {
    if (!isPlainObject(input.errorRates)) throw new InvalidFaultsError('errorRates must be an object of status -> probability');
    const errorRates: Record<number, number> = {};
    for (const [key, rate] of Object.entries(input.errorRates)) {
      const status = Number(key);
      if (!Number.isInteger(status) || status < 400 || status > 599) throw new InvalidFaultsError(`errorRates: '${key}' is not a 4xx/5xx status`);
      if (!isProbability(rate)) throw new InvalidFaultsError(`errorRates[${key}] must be a probability between 0 and 1`);
      errorRates[status] = rate;
    }
    faults.errorRates = errorRates;
  }
  if (input.latencyMs !== undefined) {
    const latency = input.latencyMs;
    if (typeof latency !== 'number' || !Number.isFinite(latency) || latency < 0) throw new InvalidFaultsError('latencyMs must be a number >= 0');
    faults.latencyMs = latency;
  }
  if (input.acceptThenDropRate !== undefined) {
    if (!isProbability(input.acceptThenDropRate)) throw new InvalidFaultsError('acceptThenDropRate must be a probability between 0 and 1');
    faults.acceptThenDropRate = input.acceptThenDropRate;
  }
  if (input.retryAfterSeconds !== undefined) {
    const retryAfter = input.retryAfterSeconds;
    if (retryAfter !== null && (typeof retryAfter !== 'number' || !Number.isInteger(retryAfter) || retryAfter < 0)) {
      throw new InvalidFaultsError('retryAfterSeconds must be an integer >= 0 or null');
    }
    faults.retryAfterSeconds = retryAfter;
  }
  if (input.errorBodies !== undefined) {
    if (!isPlainObject(input.errorBodies)) throw new InvalidFaultsError('errorBodies must be an object of status -> JSON body');
    const errorBodies: Record<number, unknown> = {};
    for (const [key, body] of Object.entries(input.errorBodies)) {
      const status = Number(key);
      if (!Number.isInteger(status) || status < 400 || status > 599) throw new InvalidFaultsError(`errorBodies: '${key}' is not a 4xx/5xx status`);
      if (body === undefined) continue;
      errorBodies[status] = JSON.parse(JSON.stringify(body)) as unknown;
    }
    faults.errorBodies = errorBodies;
  }
  return faults;
}

interface StatusThreshold {
  status: number;
  /** cumulative probability: a draw below it (and above the previous one) picks this status */
  upTo: number;
}

export class FaultPlan {
  private readonly thresholds: StatusThreshold[];

  constructor(readonly faults: FakeFaults) {
    let cumulative = 0;
    this.thresholds = Object.entries(faults.errorRates ?? {})
      .filter(([, rate]) => rate > 0)
      .map(([status, rate]) => ({ status: Number(status), upTo: (cumulative += rate) }));
  }

  get latencyMs(): number {
    return this.faults.latencyMs ?? 0;
  }

  /** The injected error status for this call, or null to proceed normally. */
  pickErrorStatus(random: () => number = Math.random): number | null {
    if (this.thresholds.length === 0) return null;
    const draw = random();
    for (const { status, upTo } of this.thresholds) if (draw < upTo) return status;
    return null;
  }

  shouldDropAfterAccepting(random: () => number = Math.random): boolean {
    const rate = this.faults.acceptThenDropRate ?? 0;
    return rate > 0 && random() < rate;
  }

  /** Retry-After for a limiter's 429: its own computed value unless the faults override it. */
  limiterRetryAfter(computedSeconds: number): number | null {
    const override = this.faults.retryAfterSeconds;
    return override === undefined ? computedSeconds : override;
  }

  /** Retry-After for an injected 429: only when the faults ask for one. */
  injectedRetryAfter(): number | null {
    return this.faults.retryAfterSeconds ?? null;
  }
}

export interface CannedResponse {
  status: number;
  body: string;
  contentType: string | null;
  headers: Record<string, string>;
}

const CDN_STATUSES = new Set([502, 520, 521, 522, 523, 524]);

function cdnErrorPage(status: number): string {
  return `<!DOCTYPE html>\n<html><head><title>${status} | trustpilot.com</title></head><body><h1>Error ${status}</h1><p>The origin web server returned an unexpected response.</p></body></html>\n`;
}

/** What a client sees when `status` is injected: the body varies the way real failures do. */
export function injectedFaultResponse(status: number, plan: FaultPlan): CannedResponse {
  const json = 'application/json; charset=utf-8';
  const custom = plan.faults.errorBodies?.[status];
  if (custom !== undefined) return { status, body: JSON.stringify(custom), contentType: json, headers: {} };
  if (status === 429) {
    const retryAfter = plan.injectedRetryAfter();
    return { status, body: QUOTA_VIOLATION_BODY, contentType: json, headers: retryAfter === null ? {} : { 'retry-after': String(retryAfter) } };
  }
  if (status === 401) return { status, body: INVALID_ACCESS_TOKEN_BODY, contentType: json, headers: {} };
  if (status === 500) return { status, body: '{"message":"An error has occurred."}', contentType: json, headers: {} };
  if (CDN_STATUSES.has(status)) return { status, body: cdnErrorPage(status), contentType: 'text/html; charset=utf-8', headers: {} };
  // 503, 504 and other 5xx arrive from load balancers with no body at all.
  if (status >= 500) return { status, body: '', contentType: null, headers: {} };
  return { status, body: JSON.stringify({ message: `Injected fault ${status}` }), contentType: json, headers: {} };
}
