import { createHash } from 'node:crypto';
import { TrustpilotError } from './error.ts';
import { HINTS } from './explanations.ts';
import type { TrustpilotCredentials } from './types.ts';

/** A token as held in the cache. Times are in the cache's clock (ms since epoch by default). */
export interface AccessToken {
  accessToken: string;
  refreshToken?: string;
  obtainedAtMs: number;
  expiresAtMs: number;
  /** From this moment on, a caller triggers a renewal while the current token stays usable. */
  renewAtMs: number;
}

/** How the cache obtains a token; implemented by the token endpoint code, faked in tests. */
export interface TokenSource {
  /** Identifies the credential set; see tokenCacheKey. */
  readonly key: string;
  /** Mints a token, refreshing `previous` when it carries a refresh token. */
  mint(previous: AccessToken | undefined, now: () => number): Promise<AccessToken>;
}

export interface TokenCacheOptions {
  /**
   * Sustained ceiling on minting per credential set when tokens get rejected (401) or are
   * renewed ahead of expiry: at most one mint per this many seconds, with a burst of two so
   * that a token rejected right after being issued can still be replaced once. Default 10.
   */
  minRenewIntervalSeconds?: number;
  /** Injectable clock for tests. */
  now?: () => number;
}

interface CacheEntry {
  token?: AccessToken;
  /** The cached token was answered with 401; it must not be handed out again. */
  rejected: boolean;
  inFlight?: { promise: Promise<AccessToken>; early: boolean } | undefined;
  /** Token bucket limiting mints; see TokenCacheOptions.minRenewIntervalSeconds. */
  mintAllowance: number;
  allowanceUpdatedAtMs: number;
  /** A token request that failed for a reason a quick retry cannot fix (bad credentials, 429). */
  failure?: { error: unknown; untilMs: number } | undefined;
}

const MINT_BURST = 2;
const DEFAULT_MIN_RENEW_INTERVAL_SECONDS = 10;

/**
 * Identifies a credential set without holding its secret: two clients with the same host,
 * application, grant and user share one token. The secret is deliberately not part of the
 * key, so a rotated secret keeps using the still-valid token until it is renewed.
 */
export function tokenCacheKey(apiUrl: string, credentials: TrustpilotCredentials): string {
  const user = credentials.grant === 'password' ? credentials.username : '';
  return createHash('sha256')
    .update(JSON.stringify([apiUrl.replace(/\/+$/, ''), credentials.apiKey, credentials.grant, user]))
    .digest('hex');
}

/** Lets one waiter stop waiting for a shared promise without cancelling it for the others. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.finally(() => signal.removeEventListener('abort', onAbort)).then(resolve, reject);
  });
}

/**
 * One cached access token per credential set, shared by every client using this cache.
 *
 * Guarantees:
 * - at most one token request in flight per credential set; concurrent callers await it;
 * - a caller abandoning the wait (abort) does not cancel the shared request;
 * - renewal ahead of expiry, in the background: callers keep using the valid current token
 *   meanwhile, and keep it if the renewal fails;
 * - a token answered with 401 is replaced once; renewals caused by 401s or early renewal are
 *   rate-limited by a token bucket, so a 401 storm cannot become a mint storm;
 * - failed requests caused by network/5xx are not cached: the next caller tries again.
 */
export class TokenCache {
  private readonly entries = new Map<string, CacheEntry>();
  private readonly minRenewIntervalMs: number;
  private readonly now: () => number;

  constructor(options: TokenCacheOptions = {}) {
    this.minRenewIntervalMs = Math.max(0, (options.minRenewIntervalSeconds ?? DEFAULT_MIN_RENEW_INTERVAL_SECONDS) * 1000);
    this.now = options.now ?? Date.now;
  }

  /** Returns a usable token, minting or renewing as needed. */
  async getToken(source: TokenSource, signal?: AbortSignal): Promise<AccessToken> {
    signal?.throwIfAborted();
    const entry = this.entryFor(source.key);
    const now = this.now();
    const current = entry.token;
    const currentIsUsable = current !== undefined && !entry.rejected && now < current.expiresAtMs;

    if (entry.inFlight) {
      // An early renewal runs in the background: nobody waits for it while the old token is valid.
      if (entry.inFlight.early && currentIsUsable) return current;
      return abortable(entry.inFlight.promise, signal);
    }

    if (entry.failure) {
      if (now < entry.failure.untilMs) throw entry.failure.error;
      entry.failure = undefined;
    }

    if (current && entry.rejected) {
      if (!this.takeMintAllowance(entry, now)) {
        throw new TrustpilotError(
          `Trustpilot credentials rejected (401): a replacement access token was refused again within ${Math.round(this.minRenewIntervalMs / 1000)} s`,
          { kind: 'misconfigured', status: 401, hint: HINTS.credentialsRejected },
        );
      }
      return abortable(this.startMint(entry, source, current, { early: false, charged: true }), signal);
    }
    if (current && now < current.renewAtMs) return current;
    if (current && currentIsUsable) {
      // Renewing early is a courtesy, not a necessity: skip it when the bucket is empty, and
      // keep serving the current token while it runs.
      if (this.takeMintAllowance(entry, now)) void this.startMint(entry, source, current, { early: true, charged: true });
      return current;
    }
    // No token, or it has expired: minting is unavoidable. It still drains the bucket so that
    // 401-driven renewals right after it are limited; expiry itself bounds how often we get here.
    const charged = this.takeMintAllowance(entry, now);
    return abortable(this.startMint(entry, source, current, { early: false, charged }), signal);
  }

  /**
   * Records that `accessToken` was answered with 401. Only the cached token can be rejected:
   * a 401 for a token that has already been replaced says nothing about the new one.
   */
  reportRejected(key: string, accessToken: string): void {
    const entry = this.entries.get(key);
    if (entry?.token?.accessToken === accessToken) entry.rejected = true;
  }

  /** Drops every cached token (e.g. in tests or after rotating credentials). */
  clear(): void {
    this.entries.clear();
  }

  /** Number of credential sets known to the cache. */
  get size(): number {
    return this.entries.size;
  }

  private entryFor(key: string): CacheEntry {
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { rejected: false, mintAllowance: MINT_BURST, allowanceUpdatedAtMs: this.now() };
      this.entries.set(key, entry);
    }
    return entry;
  }

  private takeMintAllowance(entry: CacheEntry, now: number): boolean {
    if (this.minRenewIntervalMs === 0) return true;
    const refilled = (now - entry.allowanceUpdatedAtMs) / this.minRenewIntervalMs;
    entry.mintAllowance = Math.min(MINT_BURST, entry.mintAllowance + Math.max(0, refilled));
    entry.allowanceUpdatedAtMs = now;
    if (entry.mintAllowance < 1) return false;
    entry.mintAllowance -= 1;
    return true;
  }

  private startMint(
    entry: CacheEntry,
    source: TokenSource,
    previous: AccessToken | undefined,
    { early, charged }: { early: boolean; charged: boolean },
  ): Promise<AccessToken> {
    const promise = source
      .mint(previous, this.now)
      .then(
        (token) => {
          entry.token = token;
          entry.rejected = false;
          entry.failure = undefined;
          return token;
        },
        (error: unknown) => {
          // A failed early renewal must not block the still-valid token, so it is never held.
          const holdMs = early ? 0 : this.failureHoldMs(error);
          if (holdMs > 0) {
            entry.failure = { error, untilMs: this.now() + holdMs };
          } else if (charged && !early) {
            // A transient failure minted nothing, so it must not count against the bucket:
            // otherwise a network blip during a 401 renewal would later read as "credentials rejected".
            // Early renewals keep the charge, which paces their retries while the old token still works.
            entry.mintAllowance = Math.min(MINT_BURST, entry.mintAllowance + 1);
          }
          throw error;
        },
      )
      .finally(() => {
        if (entry.inFlight?.promise === promise) entry.inFlight = undefined;
      });
    entry.inFlight = { promise, early };
    // Waiters may all abandon the wait (or, for early renewals, nobody waits at all);
    // the shared promise must never count as an unhandled rejection.
    promise.catch(() => undefined);
    return promise;
  }

  /**
   * Network errors and 5xx are not remembered: the next caller simply tries again. Rejected
   * credentials and rate limiting are remembered briefly, so a caller looping over rows does
   * not hammer the token endpoint with a request that cannot succeed yet.
   */
  private failureHoldMs(error: unknown): number {
    if (!(error instanceof TrustpilotError)) return 0;
    if (error.kind === 'misconfigured') return this.minRenewIntervalMs;
    if (error.status === 429) return error.retryAfterMs ?? this.minRenewIntervalMs;
    return 0;
  }
}

/** The process-wide default, so every client built with the same credentials shares one token. */
export const sharedTokenCache = new TokenCache();
