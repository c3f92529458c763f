import { readDevConnection } from '../config/dev-discovery.ts';
import { readEnv, type AppEnv } from '../config/env.ts';
import { InvitationsClient } from '../client.ts';
import { CliError } from './output.ts';
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
      // All of dev mode's settings or none: a production Temporal, task queue or Trustpilot left in
      // the shell must never be paired with dev mode's database.
      const production = Object.keys(running.env).filter((name) => (process.env[name] ?? '').trim() !== '' && process.env[name] !== running.env[name]);
      if (production.length > 0) {
        throw new CliError(
          `npm start is running, but ${production.join(', ')} ${production.length === 1 ? 'is' : 'are'} set in this shell and DATABASE_URL is not: ` +
            `unset ${production.length === 1 ? 'it' : 'them'} to use the running npm start, or set DATABASE_URL (and the rest) to use a deployment of your own`,
        );
      }
      Object.assign(process.env, running.env);
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
