import { sql } from 'kysely';
import { CLAIMABLE_STATUSES, SENDABLE_STATUSES } from '../db/ledger-statuses.ts';
import { prepareRow, type PreparedRow } from '../domain/index.ts';
import { CLAIM_BATCH_SIZE } from '../run/policies.ts';
import type { ClaimResult } from '../run/types.ts';
import type { ActivityDeps } from './deps.ts';
import { sourceFailure } from './failures.ts';
import { readHeartbeats } from './read-heartbeats.ts';
import type { RunContext } from './run-context.ts';

interface BatchRow {
  id: number;
  row_key: string;
  status: string;
}

export function createClaimActivity(deps: ActivityDeps, context: RunContext, batchSize = CLAIM_BATCH_SIZE) {
  const { db } = deps;

  /** The next rows of the run after `afterId`, in id order: new ones to build, and ones to send (again). */
  async function nextRows(runId: number, afterId: number): Promise<BatchRow[]> {
    return await db
      .selectFrom('app.ledger')
      .select(['id', 'row_key', 'status'])
      .where('last_run_id', '=', runId)
      .where('id', '>', afterId)
      .where('status', 'in', CLAIMABLE_STATUSES)
      .orderBy('id')
      .limit(batchSize)
      .execute();
  }

  /** Reads the new rows' data and builds (and validates) their invitations. */
  async function prepare(runId: number, rows: BatchRow[]): Promise<Map<number, PreparedRow>> {
    const config = await context.config(runId);
    let fetched;
    const heartbeats = readHeartbeats(config.limits.statementTimeoutMs);
    try {
      const shape = await context.shape(runId);
      try {
        fetched = await config.source.readRows(shape, rows.map((row) => row.row_key), config.limits, { onProgress: heartbeats.onProgress });
      } catch (error) {
        throw sourceFailure(config.source.describeError(error, config.errorContext));
      }
    } finally {
      heartbeats.stop();
    }
    return new Map(rows.map((row) => [row.id, prepareRow(fetched.get(row.row_key), config.resolved)]));
  }

  /**
   * Records the prepared rows in one statement; only rows still 'new' change (a concurrent attempt
   * may have won). Rows that were gone when read leave the ledger (a later run finds them again if
   * they come back) and are counted on the run, which says so.
   */
  async function record(runId: number, prepared: Map<number, PreparedRow>): Promise<number> {
    const updates = [...prepared].flatMap(([id, row]) =>
      row.status === 'vanished'
        ? []
        : [
            sql`(${id}::bigint, ${row.status}, ${row.status === 'pending' ? JSON.stringify(row.payload) : null}::jsonb, ${row.fingerprint},
                 ${row.status === 'rejected' ? 'invalid_row' : null}, ${row.status === 'rejected' ? row.reason : null})`,
          ],
    );
    const vanished = [...prepared].filter(([, row]) => row.status === 'vanished').map(([id]) => id);
    return await db.transaction().execute(async (trx) => {
      let rejected = 0;
      if (updates.length > 0) {
        const result = await sql<{ status: string }>`
          update app.ledger as l
             set status = v.status, payload = v.payload, fingerprint = v.fingerprint,
                 error_class = v.error_class, error_message = v.error_message, updated_at = now()
            from (values ${sql.join(updates)}) as v(id, status, payload, fingerprint, error_class, error_message)
           where l.id = v.id and l.status = 'new'
          returning l.status`.execute(trx);
        rejected = result.rows.filter((row) => row.status === 'rejected').length;
      }
      if (vanished.length > 0) {
        const gone = await trx.deleteFrom('app.ledger').where('id', 'in', vanished).where('status', '=', 'new').executeTakeFirst();
        const count = Number(gone.numDeletedRows);
        if (count > 0) {
          await trx
            .updateTable('app.runs')
            .set((eb) => ({ vanished_rows: eb('vanished_rows', '+', count) }))
            .where('id', '=', runId)
            .execute();
        }
      }
      return rejected;
    });
  }

  /**
   * Claims the run's next batch of rows after `afterId`: builds the invitations of rows found new
   * (reading their data from the warehouse, by key), records them, and returns the ids to send.
   * Safe to retry and to run twice: only rows still 'new' are built, and the ids returned are read
   * back from the ledger.
   */
  async function claimBatch(input: { runId: number; afterId: number }): Promise<ClaimResult> {
    // First of all: the run must be this worker's (its database's) and this workflow's.
    await context.config(input.runId);
    const rows = await nextRows(input.runId, input.afterId);
    if (rows.length === 0) return { entryIds: [], lastId: input.afterId, rejected: 0, done: true };
    const fresh = rows.filter((row) => row.status === 'new');
    const rejected = fresh.length > 0 ? await record(input.runId, await prepare(input.runId, fresh)) : 0;
    const sendable = await db
      .selectFrom('app.ledger')
      .select('id')
      .where('id', 'in', rows.map((row) => row.id))
      .where('status', 'in', SENDABLE_STATUSES)
      .orderBy('id')
      .execute();
    return {
      entryIds: sendable.map((row) => row.id),
      lastId: rows.at(-1)?.id ?? input.afterId,
      rejected,
      done: rows.length < batchSize,
    };
  }

  return { claimBatch };
}
