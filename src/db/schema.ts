import type { ColumnType, Generated, JSONColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Counter = ColumnType<number, number | undefined, number>;

/** A JSON value that Postgres stores in a jsonb column. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export type LedgerStatus =
  /** claimed by a run, not yet attempted */
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
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface ActivationsTable {
  id: string;
  destination_id: string;
  config: JSONColumnType<Record<string, Json>>;
  /** highest cursor-column value settled by a successful run, JSON-encoded */
  watermark: ColumnType<Json | null, string | null | undefined, string | null>;
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
  first_run: ColumnType<boolean, boolean | undefined, boolean>;
  scan_page: Counter;
  scan_after: ColumnType<Json | null, string | null | undefined, string | null>;
  scan_done: ColumnType<boolean, boolean | undefined, boolean>;
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
}

export interface LedgerTable {
  id: Generated<number>;
  activation_id: string;
  row_key: string;
  status: LedgerStatus;
  /** hash of the mapped source values; a rejected row is reconsidered only when it changes */
  fingerprint: string;
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
  /** the scan page of last_run_id that claimed this row; makes page claims idempotent */
  claimed_page: number | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  sent_at: NullableTimestamp;
}

export interface RateLimitsTable {
  key: string;
  next_slot_at: Timestamp;
}

export interface Database {
  'app.destinations': DestinationsTable;
  'app.activations': ActivationsTable;
  'app.runs': RunsTable;
  'app.ledger': LedgerTable;
  'app.rate_limits': RateLimitsTable;
}
