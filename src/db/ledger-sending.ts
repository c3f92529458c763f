import type pg from 'pg';
import type { InvitationRequest } from '../domain/index.ts';
import type { Json } from './schema.ts';

/**
 * The ledger writes around one Trustpilot call, one statement each: take the row for sending,
 * then record what Trustpilot answered. Shared by the send activity and `cli test-row`.
 *
 * They run for every invitation, so they are named prepared statements (parsed and planned once per
 * connection) with fixed text and positional parameters.
 */

const TAKE = `
  with target as (
    select id, status, sending_attempt from app.ledger where id = $1 for update
  ), run as (
    select status, transient_failures_in_a_row >= $3 as breaker_open from app.runs where id = $2
  ), moved as (
    update app.ledger l
       set status = 'sending', attempts = l.attempts + 1, sending_attempt = $4,
           in_doubt = l.in_doubt or t.status = 'sending', updated_at = now()
      from target t, run r
     where l.id = t.id and r.status = 'running' and not r.breaker_open
       and (t.status in ('pending', 'failed') or (t.status = 'sending' and coalesce(t.sending_attempt, 0) < $4))
    returning l.payload
  )
  select t.status as previous, r.status as run_status, r.breaker_open, (select payload from moved) as payload,
         exists (select 1 from moved) as moved
    from target t cross join run r`;

const RECORD_SENT = `
  with sent as (
    update app.ledger set status = 'sent', sent_at = now(), payload = null, error_class = null, error_message = null, updated_at = now()
     where id = $1 and status = 'sending'
    returning 1
  )
  update app.runs set transient_failures_in_a_row = 0 where id = $2 and transient_failures_in_a_row <> 0`;

const RECORD_FAILURE = `
  with failed as (
    update app.ledger
       set status = $3, error_class = $4, error_message = $5, in_doubt = in_doubt or $6,
           payload = case when $3 = 'rejected' then null else payload end, updated_at = now()
     where id = $1 and status = 'sending'
    returning 1
  )
  update app.runs
     set transient_failures_in_a_row = case $7::text when 'down' then transient_failures_in_a_row + 1 when 'answered' then 0 else transient_failures_in_a_row end
   where id = $2
  returning transient_failures_in_a_row as in_a_row`;

export type Taken =
  | { kind: 'taken'; payload: InvitationRequest }
  | { kind: 'already_sent' }
  | { kind: 'not_sendable' }
  | { kind: 'breaker_open' }
  | { kind: 'contended' };

/**
 * Moves the row to 'sending' and reads its invitation, unless it is no longer sendable, its run is
 * over, or the run's circuit breaker is open. A row found 'sending' by an earlier attempt (one
 * Temporal gave up on: it crashed or stopped heartbeating mid-call) may have reached Trustpilot:
 * it is taken over and flagged in doubt. A row 'sending' by this or a later attempt is left alone:
 * this attempt is the one given up on, woken late from its pacing wait.
 */
export async function takeForSending(pool: pg.Pool, target: { runId: number; entryId: number; attempt: number; breakerLimit: number }): Promise<Taken> {
  const result = await pool.query<{ previous: string; run_status: string; breaker_open: boolean; payload: Json | null; moved: boolean }>({
    name: 'ledger-take-for-sending',
    text: TAKE,
    values: [target.entryId, target.runId, target.breakerLimit, target.attempt],
  });
  const row = result.rows[0];
  if (!row || row.previous === 'sent') return { kind: 'already_sent' };
  if (row.moved && row.payload !== null) return { kind: 'taken', payload: row.payload as unknown as InvitationRequest };
  if (row.run_status !== 'running') return { kind: 'not_sendable' };
  if (row.breaker_open) return { kind: 'breaker_open' };
  if (row.previous === 'sending') return { kind: 'contended' };
  return { kind: 'not_sendable' };
}

/** Trustpilot accepted the invitation. A success also resets the run's count of failures in a row. */
export async function recordSent(pool: pg.Pool, target: { runId: number; entryId: number }): Promise<void> {
  await pool.query({ name: 'ledger-record-sent', text: RECORD_SENT, values: [target.entryId, target.runId] });
}

export interface FailedCall {
  status: 'failed' | 'rejected';
  errorClass: string;
  /** built from ids, statuses and codes only (see TrustpilotError) */
  message: string;
  /** the call may have gone through: a retry could send a second email */
  inDoubt: boolean;
  /**
   * what the failure says about Trustpilot's health: `down` counts towards the circuit breaker,
   * `answered` (Trustpilot replied, e.g. 400 or 403) resets the count, `unknown` (429, an interrupted call) leaves it
   */
  health: 'down' | 'answered' | 'unknown';
}

/**
 * Records a failed call on the row and on the run's count of failures in a row (which only
 * failures that make Trustpilot look down increase, and any answer from Trustpilot resets).
 * Returns that count. A rejected row loses its payload: it is never sent with this content.
 */
export async function recordFailure(pool: pg.Pool, target: { runId: number; entryId: number }, outcome: FailedCall): Promise<number> {
  const result = await pool.query<{ in_a_row: number }>({
    name: 'ledger-record-failure',
    text: RECORD_FAILURE,
    values: [target.entryId, target.runId, outcome.status, outcome.errorClass, outcome.message, outcome.inDoubt, outcome.health],
  });
  return result.rows[0]?.in_a_row ?? 0;
}
