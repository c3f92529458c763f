import type pg from 'pg';
import type { InvitationRequest } from '../domain/index.ts';
import { GroupCommit } from './group-commit.ts';
import type { Json } from './schema.ts';

/**
 * The ledger writes around one Trustpilot call, one statement each: take the row for sending,
 * then record what Trustpilot answered. Shared by the send activity and `cli test-row`.
 *
 * They run for every invitation, so they are named prepared statements (parsed and planned once per
 * connection) with fixed text and positional parameters, and the concurrent sends of a process
 * share them (group commit, see GroupCommit): a take or a record that arrives while another is in
 * flight goes with the next statement, which handles many rows at once.
 */

// Rows are locked in id order, as every statement here locks them: concurrent batches cannot deadlock.
const TAKE = `
  with input as (
    select * from unnest($1::bigint[], $2::bigint[], $3::int[], $4::int[]) as i(id, run_id, breaker_limit, attempt)
  ), target as (
    select id, status, sending_attempt from app.ledger where id = any($1::bigint[]) order by id for update
  ), run as (
    -- A deleted activation sends nothing more, whatever its run is doing: its rows wait in the ledger.
    select r.id, case when a.id is not null and a.deleted_at is null then r.status else 'deleted' end as status, r.transient_failures_in_a_row
      from app.runs r left join app.activations a on a.id = r.activation_id
     where r.id = any($2::bigint[])
  ), moved as (
    update app.ledger l
       set status = 'sending', attempts = l.attempts + 1, sending_attempt = i.attempt,
           in_doubt = l.in_doubt or t.status = 'sending', updated_at = now()
      from target t
      join input i on i.id = t.id
      join run r on r.id = i.run_id
     where l.id = t.id and r.status = 'running' and r.transient_failures_in_a_row < i.breaker_limit
       and (t.status in ('pending', 'failed') or (t.status = 'sending' and coalesce(t.sending_attempt, 0) < i.attempt))
    returning l.id, l.payload
  )
  select i.id, t.status as previous, r.status as run_status, r.transient_failures_in_a_row >= i.breaker_limit as breaker_open,
         m.payload, m.id is not null as moved
    from input i
    left join target t on t.id = i.id
    left join run r on r.id = i.run_id
    left join moved m on m.id = i.id`;

const RECORD_SENT = `
  with sent as (
    update app.ledger set status = 'sent', sent_at = now(), payload = null, error_class = null, error_message = null, updated_at = now()
     where id = any($1::bigint[]) and status = 'sending'
    returning 1
  )
  update app.runs set transient_failures_in_a_row = 0 where id = any($2::bigint[]) and transient_failures_in_a_row <> 0`;

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

export interface SendTarget {
  runId: number;
  entryId: number;
}

interface TakeTarget extends SendTarget {
  attempt: number;
  breakerLimit: number;
}

interface TakeRow {
  id: number;
  previous: string | null;
  run_status: string | null;
  breaker_open: boolean | null;
  payload: Json | null;
  moved: boolean;
}

function takenFrom(row: TakeRow | undefined): Taken {
  if (!row || row.previous === null || row.run_status === null || row.previous === 'sent') return { kind: 'already_sent' };
  if (row.moved && row.payload !== null) return { kind: 'taken', payload: row.payload as unknown as InvitationRequest };
  if (row.run_status !== 'running') return { kind: 'not_sendable' };
  if (row.breaker_open) return { kind: 'breaker_open' };
  if (row.previous === 'sending') return { kind: 'contended' };
  return { kind: 'not_sendable' };
}

async function takeMany(pool: pg.Pool, targets: TakeTarget[]): Promise<Taken[]> {
  const result = await pool.query<TakeRow>({
    name: 'ledger-take-for-sending',
    text: TAKE,
    values: [targets.map((t) => t.entryId), targets.map((t) => t.runId), targets.map((t) => t.breakerLimit), targets.map((t) => t.attempt)],
  });
  const byId = new Map(result.rows.map((row) => [row.id, row]));
  return targets.map((target) => takenFrom(byId.get(target.entryId)));
}

async function recordManySent(pool: pg.Pool, targets: SendTarget[]): Promise<void[]> {
  await pool.query({ name: 'ledger-record-sent', text: RECORD_SENT, values: [targets.map((t) => t.entryId), [...new Set(targets.map((t) => t.runId))]] });
  return targets.map(() => undefined);
}

interface Groups {
  take: GroupCommit<TakeTarget, Taken>;
  sent: GroupCommit<SendTarget, void>;
}

const groupsByPool = new WeakMap<pg.Pool, Groups>();

function groupsOf(pool: pg.Pool): Groups {
  let groups = groupsByPool.get(pool);
  if (!groups) {
    // Two attempts at one row never share a statement: each must see what the other did.
    groups = {
      take: new GroupCommit((targets) => takeMany(pool, targets), (target) => target.entryId),
      sent: new GroupCommit((targets) => recordManySent(pool, targets), (target) => target.entryId),
    };
    groupsByPool.set(pool, groups);
  }
  return groups;
}

/**
 * Moves the row to 'sending' and reads its invitation, unless it is no longer sendable, its run is
 * over, or the run's circuit breaker is open. A row found 'sending' by an earlier attempt (one
 * Temporal gave up on: it crashed or stopped heartbeating mid-call) may have reached Trustpilot:
 * it is taken over and flagged in doubt. A row 'sending' by this or a later attempt is left alone:
 * this attempt is the one given up on, woken late from its pacing wait.
 */
export function takeForSending(pool: pg.Pool, target: TakeTarget): Promise<Taken> {
  return groupsOf(pool).take.submit(target);
}

/** Trustpilot accepted the invitation. A success also resets the run's count of failures in a row. */
export function recordSent(pool: pg.Pool, target: SendTarget): Promise<void> {
  return groupsOf(pool).sent.submit(target);
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

/**
 * Trustpilot failed before any row was taken (its token endpoint is down): the failure counts
 * towards the run's circuit breaker all the same, so a run against a Trustpilot that is down ends
 * after a few calls whichever endpoint fails. Returns the run's failures in a row.
 */
export async function recordRunDown(pool: pg.Pool, runId: number): Promise<number> {
  const result = await pool.query<{ in_a_row: number }>({
    name: 'run-record-down',
    text: 'update app.runs set transient_failures_in_a_row = transient_failures_in_a_row + 1 where id = $1 returning transient_failures_in_a_row as in_a_row',
    values: [runId],
  });
  return result.rows[0]?.in_a_row ?? 0;
}
