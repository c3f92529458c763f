import type { LedgerStatus } from './schema.ts';

/** Rows a later run picks up again: never attempted, interrupted, or failed for transient reasons. */
export const RETRYABLE_STATUSES: readonly LedgerStatus[] = ['new', 'pending', 'sending', 'failed'];

/** Rows a claim hands out within its run: to build ('new'), or to send ('pending', 'failed'). */
export const CLAIMABLE_STATUSES: readonly LedgerStatus[] = ['new', 'pending', 'failed'];

/** Rows whose invitation is built and may be sent. */
export const SENDABLE_STATUSES: readonly LedgerStatus[] = ['pending', 'failed'];
