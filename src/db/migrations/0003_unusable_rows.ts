import type { Kysely } from 'kysely';

/**
 * Rows a run could not track or read are counted, so the run says so instead of a silent zero:
 * - keys longer than the ledger's index can hold are left out of the ledger (one such row must not
 *   stop the others);
 * - rows found new by the scan that were gone, or had another key, when their data was read (a key
 *   built from a volatile expression, or rows deleted in between).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .withSchema('app')
    .alterTable('runs')
    .addColumn('oversized_keys', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('vanished_rows', 'integer', (col) => col.notNull().defaultTo(0))
    .execute();
}

export function down(): Promise<void> {
  return Promise.reject(new Error('0003_unusable_rows cannot be reverted: restore a backup taken before upgrading'));
}
