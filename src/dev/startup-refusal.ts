import { DEV_DATA_DIR, runningDevMode, type DevConnection } from '../config/dev-discovery.ts';
import { readEnv, trustpilotCredentialVariables, type AppEnv } from '../config/env.ts';
import { PublicError } from '../domain/index.ts';
import { portInUse } from './free-port.ts';
import { assertPostgresCanRun } from './postgres-binaries.ts';
import { EMBEDDED_POSTGRES_PORT, FAKE_TRUSTPILOT_PORT, TEMPORAL_PORT, TEMPORAL_UI_PORT } from './settings.ts';

const FIXED_PORTS = [
  { port: EMBEDDED_POSTGRES_PORT, what: 'embedded Postgres' },
  { port: TEMPORAL_PORT, what: 'Temporal' },
  { port: TEMPORAL_UI_PORT, what: 'Temporal UI' },
  { port: FAKE_TRUSTPILOT_PORT, what: 'fake Trustpilot' },
] as const;

/**
 * Settings that point a process of the app at a real deployment. Dev mode reads none of them: it
 * runs only what it starts itself, so finding one means it was started where production is
 * configured, and whatever it did next (a worker on a production queue, a schedule in a production
 * namespace, a database and a role on a shared server) would land there.
 */
const PRODUCTION_VARIABLES = [
  'DATABASE_URL',
  'WAREHOUSE_DATABASE_URL',
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_TASK_QUEUE',
  'TRUSTPILOT_API_URL',
  'TRUSTPILOT_INVITATIONS_API_URL',
] as const;

/** The production settings present in `source`, by name (never by value). */
function productionVariables(source: NodeJS.ProcessEnv): string[] {
  const set = PRODUCTION_VARIABLES.filter((name) => (source[name] ?? '').trim() !== '');
  return [...set, ...trustpilotCredentialVariables(source)];
}

/** Why `npm start` refuses this environment, in one paragraph naming each variable; undefined when it may start. */
function devModeRefusal(source: NodeJS.ProcessEnv): string | undefined {
  const found = productionVariables(source);
  if (found.length === 0) return undefined;
  const names = found.join(', ');
  const them = found.length === 1 ? 'it' : 'them';
  return (
    `Dev mode (npm start) refuses to start: ${names} ${found.length === 1 ? 'is' : 'are'} set, and dev mode never touches production: ` +
    `it runs only what it starts itself (an embedded Postgres, a Temporal dev server with its own task queue, a fake Trustpilot). Nothing was created or started. ` +
    `To run the demo, unset ${them} (\`unset ${found.join(' ')}\`); for a real deployment, run a production worker with \`npm run worker\`, which uses ${them}.`
  );
}

/** The one line a second `npm start` prints: which one runs, and where. */
export function alreadyRunningMessage(running: DevConnection): string {
  const where = [running.temporalUi ? `Temporal UI ${running.temporalUi}` : undefined, `data in ${running.dataDir ?? DEV_DATA_DIR}`].filter(Boolean).join(', ');
  const state = running.state === 'starting' ? 'starting' : 'running';
  return `Dev mode is already ${state} (pid ${running.pid}; ${where}): use that one (npm run cli -- list), or stop it (Ctrl-C in its terminal, or kill ${running.pid}) before starting another.`;
}

/**
 * Everything that can refuse the start without touching anything: production settings, another
 * dev mode, ports taken, a data directory the postgres user cannot enter. Only reads.
 */
export async function refuseBeforeStarting(): Promise<AppEnv> {
  const refusal = devModeRefusal(process.env);
  if (refusal) throw new PublicError(refusal);
  const env = readEnv();
  const running = runningDevMode();
  if (running) throw new PublicError(alreadyRunningMessage(running));
  const busy: string[] = [];
  for (const { port, what } of FIXED_PORTS) if (await portInUse(port)) busy.push(`${port} (${what})`);
  if (busy.length > 0) {
    throw new PublicError(
      `Dev mode cannot start: port${busy.length === 1 ? '' : 's'} ${busy.join(', ')} ${busy.length === 1 ? 'is' : 'are'} in use on this machine, and dev mode runs on fixed ports ` +
        `(another \`npm start\` with another data directory than ${DEV_DATA_DIR}, or another program?). Stop it, then run \`npm start\` again.`,
    );
  }
  assertPostgresCanRun(DEV_DATA_DIR);
  return env;
}
