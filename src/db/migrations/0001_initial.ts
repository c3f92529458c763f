import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createSchema('app').ifNotExists().execute();
  const app = db.schema.withSchema('app');

  await app
    .createTable('destinations')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('config', 'jsonb', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();

  await app
    .createTable('activations')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('destination_id', 'text', (col) => col.notNull().references('app.destinations.id'))
    .addColumn('config', 'jsonb', (col) => col.notNull())
    .addColumn('watermark', 'jsonb')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();

  await app
    .createTable('runs')
    .addColumn('id', 'bigserial', (col) => col.primaryKey())
    .addColumn('activation_id', 'text', (col) => col.notNull().references('app.activations.id').onDelete('cascade'))
    .addColumn('workflow_id', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) =>
      col.notNull().check(sql`status in ('running', 'succeeded', 'failed', 'skipped', 'abandoned')`),
    )
    .addColumn('started_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('finished_at', 'timestamptz')
    .addColumn('config', 'jsonb', (col) => col.notNull())
    .addColumn('error', 'text')
    .addColumn('first_run', 'boolean', (col) => col.notNull().defaultTo(false))
    .addColumn('scan_page', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('scan_after', 'jsonb')
    .addColumn('scan_done', 'boolean', (col) => col.notNull().defaultTo(false))
    .addColumn('max_cursor', 'jsonb')
    .addColumn('watermark_before', 'jsonb')
    .addColumn('watermark_after', 'jsonb')
    .addColumn('source_rows', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('new_rows', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('duplicate_keys', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('baseline_rows', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('retried_rows', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('sent', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('rejected', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('failed', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('abandoned', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('skipped_already_sent', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('in_doubt', 'integer', (col) => col.notNull().defaultTo(0))
    .execute();
  // At most one running run per activation, whatever started it.
  await app
    .createIndex('runs_one_running_per_activation')
    .on('runs')
    .column('activation_id')
    .unique()
    .where(sql.ref('status'), '=', 'running')
    .execute();
  await app.createIndex('runs_activation_started').on('runs').columns(['activation_id', 'started_at']).execute();

  await app
    .createTable('ledger')
    .addColumn('id', 'bigserial', (col) => col.primaryKey())
    .addColumn('activation_id', 'text', (col) => col.notNull().references('app.activations.id').onDelete('cascade'))
    .addColumn('row_key', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) =>
      col.notNull().check(sql`status in ('pending', 'sending', 'sent', 'failed', 'rejected', 'baseline', 'abandoned')`),
    )
    .addColumn('fingerprint', 'text', (col) => col.notNull())
    .addColumn('payload', 'jsonb')
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('runs_attempted', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('error_class', 'text')
    .addColumn('error_message', 'text')
    .addColumn('in_doubt', 'boolean', (col) => col.notNull().defaultTo(false))
    .addColumn('first_run_id', 'bigint', (col) => col.notNull())
    .addColumn('last_run_id', 'bigint', (col) => col.notNull())
    .addColumn('claimed_page', 'integer')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('sent_at', 'timestamptz')
    .addUniqueConstraint('ledger_activation_row_key', ['activation_id', 'row_key'])
    .execute();
  await app.createIndex('ledger_activation_status').on('ledger').columns(['activation_id', 'status']).execute();
  await app.createIndex('ledger_run_page').on('ledger').columns(['last_run_id', 'claimed_page']).execute();

  await app
    .createTable('rate_limits')
    .addColumn('key', 'text', (col) => col.primaryKey())
    .addColumn('next_slot_at', 'timestamptz', (col) => col.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropSchema('app').ifExists().cascade().execute();
}
