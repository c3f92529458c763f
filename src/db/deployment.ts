import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { PublicError } from '../domain/public-error.ts';
import type { AppDb } from './database.ts';
import type { DeploymentMode } from './schema.ts';

export class DeploymentModeError extends PublicError {
  override readonly name = 'DeploymentModeError';
}

export interface Deployment {
  deploymentId: string;
  mode: DeploymentMode;
}

/** The deployment record of a database that may not even have the app's tables yet. */
export async function peekDeployment(db: AppDb): Promise<Deployment | undefined> {
  const exists = await sql<{ present: boolean }>`select to_regclass('app.deployment') is not null as present`.execute(db);
  return exists.rows[0]?.present ? await readDeployment(db) : undefined;
}

export const DEV_REFUSES_PRODUCTION =
  'This database is a production one (a production worker uses it): `npm start` runs the demo with a fake Trustpilot and never touches production. Give dev mode a data directory of its own (TRUSTPILOT_DEV_DATA_DIR).';

export async function readDeployment(db: AppDb): Promise<Deployment | undefined> {
  const row = await db.selectFrom('app.deployment').select(['deployment_id', 'mode']).executeTakeFirst();
  return row ? { deploymentId: row.deployment_id, mode: row.mode } : undefined;
}

/**
 * Records, on first use, which kind of deployment this database belongs to, and refuses the other
 * kind afterwards: dev mode (a fake Trustpilot, demo data) never touches a production database, and
 * a production worker never sends for what dev mode set up.
 */
export async function claimDeployment(db: AppDb, mode: DeploymentMode): Promise<Deployment> {
  await db
    .insertInto('app.deployment')
    .values({ deployment_id: randomUUID(), mode })
    .onConflict((oc) => oc.column('singleton').doNothing())
    .execute();
  const deployment = await readDeployment(db);
  if (!deployment) throw new Error('the deployment record could not be read back');
  if (deployment.mode !== mode) {
    throw new DeploymentModeError(
      mode === 'dev'
        ? DEV_REFUSES_PRODUCTION
        : 'DATABASE_URL points at a database that `npm start` (dev mode, fake Trustpilot, demo data) set up: a production worker will not send for it. Give the worker a database of its own.',
    );
  }
  return deployment;
}
