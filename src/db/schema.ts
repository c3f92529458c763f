import type { ColumnType, Generated, JSONColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Counter = ColumnType<number, number | undefined, number>;

/** A JSON value that Postgres stores in a jsonb column. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export type LedgerStatus =
  /** found new by a run's scan; its invitation is built when its batch is claimed */
  | 'new'
  /** invitation built and validated, not yet attempted */
  | 'pending'
  /** an HTTP call is (or was, if the process died) under way: the one window for a duplicate */
  | 'sending'
  | 'sent'
  /** a retryable failure; tried again on later runs up to the activation's limit */
  | 'failed'
  /** bad data: never sent unless the row's content changes */
  | 'rejected'
  /** present before the activation's first run under the `baseline` policy: never sent */
  | 'baseline'
  /** failed on too many runs; no longer retried */
  | 'abandoned';

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'skipped' | 'abandoned';

export interface DestinationsTable {
  id: string;
  config: JSONColumnType<Record<string, Json>>;
  /** set when deleted while deleted activations still refer to it */
  deleted_at: NullableTimestamp;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface ActivationsTable {
  id: string;
  destination_id: string;
  config: JSONColumnType<Record<string, Json>>;
  /** highest cursor-column value settled by a successful run, JSON-encoded */
  watermark: ColumnType<Json | null, string | null | undefined, string | null>;
  /** start of the last successful run that read the whole segment */
  last_full_scan_at: NullableTimestamp;
  /** why an operator (or too many failed runs) paused the activation; null when not paused so */
  paused_note: string | null;
  /** set when deleted with its ledger kept */
  deleted_at: NullableTimestamp;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface RunsTable {
  id: Generated<number>;
  activation_id: string;
  workflow_id: string;
  status: RunStatus;
  started_at: Generated<Date>;
  finished_at: NullableTimestamp;
  /** destination + activation as validated when the run started; the run never sees later edits */
  config: JSONColumnType<Record<string, Json>>;
  error: string | null;
  /** what kind of trouble ended a failed run: misconfigured, unavailable, transient, recovered */
  failure_kind: string | null;
  first_run: ColumnType<boolean, boolean | undefined, boolean>;
  /** the scan has recorded its findings in the ledger */
  detected: ColumnType<boolean, boolean | undefined, boolean>;
  /** the scan read the whole segment (no cursor narrowing) */
  full_scan: ColumnType<boolean, boolean | undefined, boolean>;
  max_cursor: ColumnType<Json | null, string | null | undefined, string | null>;
  watermark_before: ColumnType<Json | null, string | null | undefined, string | null>;
  watermark_after: ColumnType<Json | null, string | null | undefined, string | null>;
  source_rows: Counter;
  new_rows: Counter;
  duplicate_keys: Counter;
  baseline_rows: Counter;
  retried_rows: Counter;
  sent: Counter;
  rejected: Counter;
  failed: Counter;
  abandoned: Counter;
  skipped_already_sent: Counter;
  in_doubt: Counter;
  /** source rows without a primary key value: they cannot be tracked, so they are not sent */
  null_keys: Counter;
  /** rejected rows whose data changed since, invited again */
  reconsidered: Counter;
  /** source rows whose key is longer than the ledger can hold: not tracked, so not sent */
  oversized_keys: Counter;
  /** rows found new that were gone (or had another key) when their data was read */
  vanished_rows: Counter;
  /** Trustpilot failures in a row during this run (connection, timeout, 5xx); trips the circuit breaker */
  transient_failures_in_a_row: Counter;
}

export interface LedgerTable {
  id: Generated<number>;
  activation_id: string;
  row_key: string;
  status: LedgerStatus;
  /** hash of the mapped source values, known once the row was built; a rejected row is reconsidered only when it changes */
  fingerprint: string | null;
  /** the request body to send; cleared once sent so personal data does not linger here */
  payload: ColumnType<Record<string, Json> | null, string | null | undefined, string | null>;
  attempts: Counter;
  runs_attempted: Counter;
  error_class: string | null;
  error_message: string | null;
  /** a call whose outcome was unknown (e.g. connection lost after sending) was retried */
  in_doubt: ColumnType<boolean, boolean | undefined, boolean>;
  first_run_id: number;
  last_run_id: number;
  /** the activity attempt that marked the row 'sending' */
  sending_attempt: number | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  sent_at: NullableTimestamp;
}

export interface RateLimitsTable {
  key: string;
  next_slot_at: Timestamp;
  /** the spacing the queued slots were reserved with */
  interval_ms: number | null;
}

export type DeploymentMode = 'dev' | 'production';

export interface DeploymentTable {
  singleton: ColumnType<boolean, boolean | undefined, never>;
  /** tags the schedules this database owns, so that another deployment never re-targets them */
  deployment_id: string;
  mode: DeploymentMode;
  created_at: Generated<Date>;
}

export interface Database {
  'app.destinations': DestinationsTable;
  'app.activations': ActivationsTable;
  'app.runs': RunsTable;
  'app.ledger': LedgerTable;
  'app.rate_limits': RateLimitsTable;
  'app.deployment': DeploymentTable;
}
