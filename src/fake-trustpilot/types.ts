/**
 * Public types of the fake Trustpilot server. Re-exported from `server.ts`, which is the
 * module other code imports; they live here so the route modules can share them without
 * importing the server (no import cycles).
 */
import type { InvitationRequest } from '../domain/invitation-request.ts';

export interface FakeApplication {
  apiKey: string;
  apiSecret: string;
  businessUserIds: string[];
  users: { username: string; password: string }[];
}

export interface FakeFaults {
  /** probability 0..1 per status code applied to email-invitations calls, e.g. { 500: 0.1, 429: 0.05, 503: 1 } */
  errorRates?: Record<number, number>;
  /** extra latency in ms added to every invitations-host request */
  latencyMs?: number;
  /** probability 0..1 that an email-invitation is ACCEPTED (recorded) and then the socket is destroyed without an answer */
  acceptThenDropRate?: number;
  /**
   * Retry-After (seconds) on 429 answers.
   * - undefined (default): the rate limiters send the seconds until their window frees up;
   *   fault-injected 429s send no Retry-After (the header is undocumented, clients must cope).
   * - a number: every 429 (limiter or fault-injected) sends exactly this value.
   * - null: no 429 sends Retry-After, so clients must fall back to their own backoff.
   */
  retryAfterSeconds?: number | null;
  /**
   * The JSON body an injected status answers with, instead of the canned one, keyed by status:
   * e.g. { 422: { errorCode: '…', message: '…' } } to see what a client keeps of an answer that
   * quotes request data.
   */
  errorBodies?: Record<number, unknown>;
}

export interface FakeRateLimit {
  limit: number;
  windowSeconds: number;
}

export interface FakeTrustpilotOptions {
  /** default 0 (random free port) */
  port?: number;
  /** default '127.0.0.1' */
  host?: string;
  /** default: one application built from FAKE_DEFAULTS */
  applications?: FakeApplication[];
  /** known business unit ids; default [FAKE_DEFAULTS.businessUnitId] */
  businessUnits?: string[];
  /** default 359999 (about 100 hours, as Trustpilot) */
  tokenLifetimeSeconds?: number;
  /** invitations-host calls per application (apiKey); default { limit: 833, windowSeconds: 300 }; null = off */
  rateLimit?: FakeRateLimit | null;
  /** tokens minted (access-token or refresh calls) per application per 60 s before 429; default 10; null = off */
  tokenMintLimitPerMinute?: number | null;
  faults?: FakeFaults;
  /** known SKUs; null/undefined = accept any SKU */
  productCatalogue?: string[] | null;
}

export interface AcceptedInvitation {
  id: string;
  businessUnitId: string;
  apiKey: string;
  businessUserId?: string;
  receivedAt: string;
  body: InvitationRequest;
}

export interface DuplicateInvitation {
  businessUnitId: string;
  consumerEmail: string;
  referenceNumber: string;
  count: number;
}

export interface FakeTrustpilotStats {
  /** every request except the /admin routes */
  requests: number;
  accepted: number;
  /** answers per HTTP status, keyed by the status as a string */
  byStatus: Record<string, number>;
  tokensIssued: number;
  /** accepted invitations whose answer was deliberately dropped (acceptThenDropRate) */
  dropped: number;
}

export interface FakeTrustpilot {
  /** base URL, e.g. http://127.0.0.1:PORT ; serves BOTH the api host routes and the invitations host routes */
  url: string;
  /** same as url (value for TRUSTPILOT_API_URL) */
  apiUrl: string;
  /** same as url (value for TRUSTPILOT_INVITATIONS_API_URL) */
  invitationsApiUrl: string;
  accepted(): AcceptedInvitation[];
  duplicates(): DuplicateInvitation[];
  stats(): FakeTrustpilotStats;
  /** forget accepted invitations, stats and rate-limit windows (token-mint windows included; tokens are kept) */
  clear(): void;
  /** replaces the current faults; throws on invalid values */
  setFaults(faults: FakeFaults): void;
  /** throws on invalid values */
  setRateLimit(limit: FakeTrustpilotOptions['rateLimit']): void;
  close(): Promise<void>;
}
