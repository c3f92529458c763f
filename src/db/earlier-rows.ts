import { sql, type Expression, type ExpressionBuilder, type SqlBool, type Transaction } from 'kysely';
import type { ActivationConfig } from '../domain/index.ts';
import type { AppDb } from './database.ts';
import { RETRYABLE_STATUSES } from './ledger-statuses.ts';
import type { Database, LedgerStatus } from './schema.ts';

/**
 * Rows earlier runs left unsent, and what the next run does with them: hands them to itself to
 * retry, or abandons those that have had `maxRunsForFailedRows` runs. The run (`handEarlierRowsTo`)
 * and the dry-run (`countEarlierRows`) select them with the same predicates.
 */

type RunAllowance = Pick<ActivationConfig, 'id' | 'maxRunsForFailedRows'>;
type LedgerRows = ExpressionBuilder<Database, 'app.ledger'>;
type LedgerPredicate = (eb: LedgerRows) => Expression<SqlBool>;

/** Rows still owed an attempt that have used up their runs: the next run abandons them. */
export function pastRunAllowance(activation: RunAllowance): LedgerPredicate {
  return (eb: LedgerRows) =>
    eb.and([eb('activation_id', '=', activation.id), eb('status', 'in', RETRYABLE_STATUSES), eb('runs_attempted', '>=', activation.maxRunsForFailedRows)]);
}

/** Rows still owed an attempt with runs left: the next run retries them. */
export function withinRunAllowance(activation: RunAllowance): LedgerPredicate {
  return (eb: LedgerRows) =>
    eb.and([eb('activation_id', '=', activation.id), eb('status', 'in', RETRYABLE_STATUSES), eb('runs_attempted', '<', activation.maxRunsForFailedRows)]);
}

export interface EarlierRows {
  retried: number;
  abandoned: number;
}

/** Rows past their allowance of runs are abandoned; the others are handed to this run. */
export async function handEarlierRowsTo(trx: Transaction<Database>, activation: RunAllowance, runId: number): Promise<EarlierRows> {
  const abandoned = await trx
    .updateTable('app.ledger')
    .set({
      status: 'abandoned',
      last_run_id: runId,
      updated_at: new Date(),
      error_message: sql<string>`coalesce(error_message, '') || ${` (gave up after ${activation.maxRunsForFailedRows} runs)`}`,
    })
    .where(pastRunAllowance(activation))
    .executeTakeFirst();
  const retried = await trx
    .updateTable('app.ledger')
    .set((eb) => ({
      last_run_id: runId,
      // Only a row that was tried and failed for transient reasons spends one of its runs; rows
      // never tried, or held back by a misconfigured activation, keep their allowance.
      runs_attempted: sql<number>`${eb.ref('runs_attempted')} + case when status in ('failed', 'sending') and coalesce(error_class, '') <> 'misconfigured' then 1 else 0 end`,
      // a row left 'sending' by a crash may have reached Trustpilot: sending it again risks a duplicate
      in_doubt: sql<boolean>`in_doubt or status = 'sending'`,
      status: sql<LedgerStatus>`case when status = 'sending' then 'failed' else status end`,
      updated_at: new Date(),
    }))
    .where(withinRunAllowance(activation))
    .executeTakeFirst();
  return { retried: Number(retried.numUpdatedRows), abandoned: Number(abandoned.numUpdatedRows) };
}

/** What `handEarlierRowsTo` would do now, changing nothing. */
export async function countEarlierRows(db: AppDb, activation: RunAllowance): Promise<EarlierRows> {
  const count = async (which: LedgerPredicate) =>
    Number((await db.selectFrom('app.ledger').select((eb) => eb.fn.countAll<number>().as('count')).where(which).executeTakeFirstOrThrow()).count);
  return { retried: await count(withinRunAllowance(activation)), abandoned: await count(pastRunAllowance(activation)) };
}

/**
 * Keys of retried rows whose invitation was never built (an earlier run ended before claiming
 * them): the next run reads and builds them, so a preview samples them too.
 */
export async function earlierRowsToBuild(db: AppDb, activation: RunAllowance, limit: number): Promise<string[]> {
  if (limit <= 0) return [];
  const rows = await db
    .selectFrom('app.ledger')
    .select('row_key')
    .where(withinRunAllowance(activation))
    .where('status', '=', 'new')
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((row) => row.row_key);
}
