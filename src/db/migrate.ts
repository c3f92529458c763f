import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import * as initial from './migrations/0001_initial.ts';
import * as bulkDetection from './migrations/0002_bulk_detection.ts';
import * as unusableRows from './migrations/0003_unusable_rows.ts';

// Listed statically so the migrations travel with any bundle of the app; one file per migration.
const migrations: Record<string, Migration> = {
  '0001_initial': initial,
  '0002_bulk_detection': bulkDetection,
  '0003_unusable_rows': unusableRows,
};

const provider: MigrationProvider = { getMigrations: () => Promise.resolve(migrations) };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function migrateToLatest(db: Kysely<any>): Promise<void> {
  const migrator = new Migrator({ db, provider, migrationTableSchema: 'app' });
  await db.schema.createSchema('app').ifNotExists().execute();
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((result) => result.status === 'Error');
  if (error || failed) {
    const reason = error instanceof Error ? error.message : failed ? 'see the migration' : 'unknown error';
    throw new Error(`Database migration ${failed?.migrationName ?? ''} failed: ${reason}`);
  }
}
