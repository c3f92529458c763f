import { readDevConnection } from '../config/dev-discovery.ts';
import { readEnv, type AppEnv } from '../config/env.ts';
import { InvitationsClient } from '../client.ts';
import { openServices, type OpenOptions, type Services } from '../runtime/services.ts';

let resolved: { env: AppEnv; devMode: boolean } | undefined;

/**
 * The environment the CLI works with: the process's own, or, when DATABASE_URL is not set and
 * `npm start` is running, the connection settings it published (its embedded Postgres, dev server
 * and fake Trustpilot), so a second terminal needs no variable at all.
 */
export function cliEnv(): { env: AppEnv; devMode: boolean } {
  if (resolved) return resolved;
  let devMode = false;
  if (!process.env.DATABASE_URL) {
    const running = readDevConnection();
    if (running) {
      for (const [name, value] of Object.entries(running.env)) process.env[name] ??= value;
      devMode = true;
    }
  }
  resolved = { env: readEnv(), devMode };
  return resolved;
}

export interface CliServices extends Services {
  env: AppEnv;
  client: InvitationsClient;
}

/** Opens the database and Temporal for one command, and closes them afterwards. */
export async function withServices<T>(work: (services: CliServices) => Promise<T>, options: OpenOptions = {}): Promise<T> {
  const { env } = cliEnv();
  const services = await openServices(env, options);
  try {
    const client = new InvitationsClient({ temporal: services.temporal, db: services.db, taskQueue: env.TEMPORAL_TASK_QUEUE });
    return await work({ ...services, env, client });
  } finally {
    await services.close();
  }
}
