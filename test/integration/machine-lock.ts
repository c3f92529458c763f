import pg from 'pg';
import { inject } from 'vitest';

/**
 * Test files run two at a time, but a file that measures rates (pacing) must have the machine to
 * itself. Every test context holds one advisory lock on the run's Postgres: shared by ordinary
 * files, exclusive by a measuring one. Postgres queues a new shared request behind a waiting
 * exclusive one, so a measuring file starts once its neighbour has ended, and none starts beside it.
 */
const MACHINE_LOCK_KEY = 7_423_001;

type Release = () => Promise<void>;

/** This file's shared hold, taken by its first open context and dropped with its last. */
let shared: { client: Promise<pg.Client>; users: number } | undefined;

async function lockedClient(mode: 'shared' | 'exclusive'): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: inject('postgresAdminUrl') });
  await client.connect();
  try {
    if (mode === 'exclusive') await client.query('select pg_advisory_lock($1)', [MACHINE_LOCK_KEY]);
    else await client.query('select pg_advisory_lock_shared($1)', [MACHINE_LOCK_KEY]);
    return client;
  } catch (error) {
    await client.end();
    throw error;
  }
}

/** Waits for the machine (shared with one other ordinary file, or alone) and returns how to let go. */
export async function occupyMachine(mode: 'shared' | 'exclusive'): Promise<Release> {
  if (mode === 'exclusive') {
    const client = await lockedClient('exclusive');
    return () => client.end();
  }
  // One request per file, never a second one queued behind a waiting exclusive: that would deadlock.
  shared ??= { client: lockedClient('shared'), users: 0 };
  const hold = shared;
  hold.users += 1;
  const release: Release = async () => {
    hold.users -= 1;
    if (hold.users > 0) return;
    if (shared === hold) shared = undefined;
    await (await hold.client).end();
  };
  try {
    await hold.client;
  } catch (error) {
    await release().catch(() => undefined);
    throw error;
  }
  return release;
}
