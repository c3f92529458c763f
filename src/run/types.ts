/**
 * Shapes that cross into Temporal history. They carry ids, counts and reasons only:
 * never an email, a name or any other value read from the segment.
 */

import type { FailureKind, RunSummary } from '../domain/run-summary.ts';

export type { FailureKind, RunStatus, RunSummary } from '../domain/run-summary.ts';

export interface ActivationRunInput {
  activationId: string;
  /** carried across continue-as-new; absent on a fresh start */
  resume?: RunState;
}

/** Where a run stands; small and fixed in size, whatever the segment's size. */
export interface RunState {
  runId: number;
  concurrency: number;
  /** the scan has recorded its findings in the ledger */
  detected: boolean;
  /** the last ledger id handed to a send; claims continue after it */
  afterId: number;
  executions: number;
  /** epoch ms when the first execution started */
  startedAtMs: number;
  /** rows the run has to handle: new (and reconsidered) rows plus rows retried from earlier runs */
  toHandle: number;
  counts: OutcomeCounts;
}

export interface OutcomeCounts {
  sent: number;
  rejected: number;
  failed: number;
}

export interface StartRunInput {
  activationId: string;
  workflowId: string;
  /** the deployment whose schedule or client started the run (the workflow's memo); absent on older starts */
  deploymentId?: string;
}

export interface StartRunResult {
  runId: number;
  /** another run of this activation is in progress; this start does nothing */
  skipped?: { reason: string };
  concurrency: number;
  /** rows of earlier runs this run retries */
  retriedRows: number;
}

/** What detection found: the run summary's detection counts, as the run row records them. */
export type DetectResult = Pick<
  RunSummary,
  'sourceRows' | 'newRows' | 'reconsidered' | 'duplicateKeys' | 'nullKeys' | 'oversizedKeys' | 'baselineRows' | 'skippedAlreadySent' | 'fullScan'
>;

export interface ClaimResult {
  /** ledger ids to send, in id order */
  entryIds: number[];
  /** the highest ledger id this claim looked at; the next claim continues after it */
  lastId: number;
  /** rows of this batch rejected while their invitations were built */
  rejected: number;
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
  failureKind?: FailureKind;
}

/** Failure type names shared by activities (which throw them) and the workflow (which reacts). */
export const MISCONFIGURED_FAILURE = 'ActivationMisconfigured';
export const UNAVAILABLE_FAILURE = 'TrustpilotUnavailable';
export const SEND_FAILED_FAILURE = 'InvitationSendFailed';
/** A worker of another deployment (another app database) took the task: retried, so that one of the run's own workers gets it. */
export const OTHER_DEPLOYMENT_FAILURE = 'OtherDeployment';

/** Search attributes every run carries, so the Temporal UI can filter and list runs. */
export const SEARCH_ATTRIBUTES = {
  activationId: 'TrustpilotActivationId',
  destinationId: 'TrustpilotDestinationId',
  outcome: 'TrustpilotRunOutcome',
  rejectedRows: 'TrustpilotRejectedRows',
  result: 'TrustpilotRunResult',
} as const;

export type RunPhase = 'starting' | 'detecting' | 'sending' | 'finishing' | 'done';

/** What the `progress` query answers: where the run is, in ids and counts only. */
export interface RunProgress {
  runId: number;
  activationId: string;
  phase: RunPhase;
  execution: number;
  startedAt: string;
  /** rows the run has to handle (known once detection is done) */
  toHandle: number;
  sent: number;
  rejected: number;
  failed: number;
  inFlight: number;
  /** why sending stopped early, if it did */
  stopped: string | null;
}

export const PROGRESS_QUERY = 'progress';
