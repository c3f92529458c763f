/**
 * Shapes that cross into Temporal history. They carry ids, counts and reasons only:
 * never an email, a name or any other value read from the segment.
 */

export interface ActivationRunInput {
  activationId: string;
  /** carried across continue-as-new; absent on a fresh start */
  resume?: ActivationRunProgress;
}

export interface ActivationRunProgress {
  runId: number;
  phase: 'retry' | 'scan';
  /** last ledger id handed out in the retry phase */
  retryAfterId: number;
  /** last source page claimed */
  page: number;
  executions: number;
  /** ledger ids claimed but not yet dispatched when the previous execution continued as new */
  pendingEntryIds?: number[];
}

export interface StartRunResult {
  runId: number;
  /** another run of this activation is in progress; this start does nothing */
  skipped?: { reason: string };
  concurrency: number;
}

export interface ClaimResult {
  entryIds: number[];
  done: boolean;
}

export type SendOutcome = 'sent' | 'rejected' | 'already_sent' | 'not_sendable';

export interface SendInvitationInput {
  runId: number;
  entryId: number;
}

export interface FinishRunInput {
  runId: number;
  outcome: 'succeeded' | 'failed';
  error?: string;
}

export interface RunSummary {
  runId: number;
  activationId: string;
  status: 'running' | 'succeeded' | 'failed' | 'skipped' | 'abandoned';
  startedAt: string;
  finishedAt: string | null;
  error: string | null;
  sourceRows: number;
  newRows: number;
  duplicateKeys: number;
  baselineRows: number;
  retriedRows: number;
  sent: number;
  rejected: number;
  failed: number;
  abandoned: number;
  skippedAlreadySent: number;
  inDoubt: number;
  watermarkBefore: string | null;
  watermarkAfter: string | null;
}

/** Failure type names shared by activities (which throw them) and the workflow (which reacts). */
export const MISCONFIGURED_FAILURE = 'ActivationMisconfigured';
export const SEND_FAILED_FAILURE = 'InvitationSendFailed';

export const ACTIVATION_SEARCH_ATTRIBUTE = 'TrustpilotActivationId';

/** What the `progress` query answers: where the run is, in ids and counts only. */
export interface RunProgress {
  runId: number;
  phase: 'retry' | 'scan' | 'finishing';
  page: number;
  execution: number;
  dispatched: number;
  inFlight: number;
  misconfigured: string | null;
}

export const PROGRESS_QUERY = 'progress';
