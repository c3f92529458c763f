/**
 * Fixed-window call counter per key (an application's apiKey). Fixed windows are what an
 * API gateway quota does (Trustpilot sits behind one) and cost O(1) per call: one map
 * lookup, no timestamps kept.
 */
export type LimitDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

interface Window {
  startedAtMs: number;
  count: number;
}

const ALLOWED: LimitDecision = { allowed: true };

export class FixedWindowLimiter {
  private readonly windows = new Map<string, Window>();
  private readonly windowMs: number;

  constructor(
    readonly limit: number,
    readonly windowSeconds: number,
    private readonly now: () => number = Date.now,
  ) {
    this.windowMs = windowSeconds * 1000;
  }

  /** Counts one call for `key` unless the window is already full. */
  take(key: string): LimitDecision {
    const now = this.now();
    let window = this.windows.get(key);
    if (window === undefined || now - window.startedAtMs >= this.windowMs) {
      window = { startedAtMs: now, count: 0 };
      this.windows.set(key, window);
    }
    if (window.count >= this.limit) {
      const msLeft = window.startedAtMs + this.windowMs - now;
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(msLeft / 1000)) };
    }
    window.count += 1;
    return ALLOWED;
  }

  reset(): void {
    this.windows.clear();
  }
}

export function assertValidLimit(limit: number, windowSeconds: number, what: string): void {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`${what}: limit must be a positive integer, got ${String(limit)}`);
  if (!Number.isFinite(windowSeconds) || windowSeconds <= 0) {
    throw new RangeError(`${what}: windowSeconds must be a positive number, got ${String(windowSeconds)}`);
  }
}
