import { sql, type Kysely } from 'kysely';

/**
 * Detection diffs the whole segment in one pass instead of claiming it page by page:
 * - a ledger row is first recorded as 'new' (key only) and its invitation is built later, when
 *   its batch is about to be sent; its fingerprint is known only from then on;
 * - runs record what the scan found and why they failed, and count Trustpilot failures in a row;
 * - the database records which kind of deployment it belongs to, so that dev mode and production
 *   never share one.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const app = db.schema.withSchema('app');

  // Nothing in the app schema is for anyone but the app's own role.
  await sql`revoke all on schema app from public`.execute(db);

  await app
    .createTable('deployment')
    .addColumn('singleton', 'boolean', (col) => col.primaryKey().defaultTo(true).check(sql`singleton`))
    .addColumn('deployment_id', 'text', (col) => col.notNull())
    .addColumn('mode', 'text', (col) => col.notNull().check(sql`mode in ('dev', 'production')`))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();

  await app.alterTable('ledger').dropConstraint('ledger_status_check').ifExists().execute();
  await sql`alter table app.ledger add constraint ledger_status_check
    check (status in ('new', 'pending', 'sending', 'sent', 'failed', 'rejected', 'baseline', 'abandoned'))`.execute(db);
  await app.alterTable('ledger').alterColumn('fingerprint', (col) => col.dropNotNull()).execute();
  await app.dropIndex('ledger_run_page').ifExists().execute();
  await app
    .alterTable('ledger')
    .dropColumn('claimed_page')
    // which activity attempt marked the row 'sending': a later attempt may take it over, an earlier one may not
    .addColumn('sending_attempt', 'integer')
    .execute();
  // Claims walk a run's rows in id order.
  await app.createIndex('ledger_run_id').on('ledger').columns(['last_run_id', 'id']).execute();

  await app
    .alterTable('runs')
    .dropColumn('scan_page')
    .dropColumn('scan_after')
    .dropColumn('scan_done')
    .addColumn('detected', 'boolean', (col) => col.notNull().defaultTo(false))
    .addColumn('full_scan', 'boolean', (col) => col.notNull().defaultTo(true))
    .addColumn('null_keys', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('reconsidered', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('failure_kind', 'text')
    .addColumn('transient_failures_in_a_row', 'integer', (col) => col.notNull().defaultTo(0))
    .execute();

  await app
    .alterTable('activations')
    .addColumn('last_full_scan_at', 'timestamptz')
    // set while an operator (or too many failed runs) paused the activation, with the reason
    .addColumn('paused_note', 'text')
    // deleting keeps the ledger: an activation applied again under the same id never resends what was sent
    .addColumn('deleted_at', 'timestamptz')
    .execute();
  await app.alterTable('destinations').addColumn('deleted_at', 'timestamptz').execute();

  // A rate limit changed by configuration applies at once: slots queued under the old interval are re-spaced.
  await app.alterTable('rate_limits').addColumn('interval_ms', 'float8').execute();
}

export function down(): Promise<void> {
  return Promise.reject(new Error('0002_bulk_detection cannot be reverted: restore a backup taken before upgrading'));
}
