import { existsSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * While `npm start` runs, it leaves the connection settings of its embedded pieces here, so that
 * the CLI in another terminal reaches it with no variable set. Only dev-mode values are written
 * (the embedded Postgres, the dev server, the fake Trustpilot's published test credentials).
 *
 * The same file is dev mode's claim on its data directory: it is created, with no settings yet,
 * before anything starts, so a second `npm start` finds the first one even while it is still
 * starting, and leaves it alone.
 */

/** Where `npm start` keeps its data: `.data/` in the checkout, unless TRUSTPILOT_DEV_DATA_DIR says otherwise. */
export const DEV_DATA_DIR = resolve(process.env.TRUSTPILOT_DEV_DATA_DIR?.trim() || resolve(import.meta.dirname, '..', '..', '.data'));
const DEV_CONNECTION_FILE = resolve(DEV_DATA_DIR, 'dev-connection.json');

export interface DevConnection {
  pid: number;
  startedAt: string;
  /** 'starting' until every piece answers; files written before this field existed were ready */
  state?: 'starting' | 'ready';
  dataDir?: string;
  temporalUi?: string;
  metricsUrl?: string;
  env: Record<string, string>;
}

export class DevModeRunningError extends Error {
  constructor(readonly running: DevConnection) {
    super(`dev mode is already ${running.state === 'starting' ? 'starting' : 'running'} (pid ${running.pid})`);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // A pid left in a stale file may since belong to another program: on Linux its command line says.
  try {
    const commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    return /dev[\\/]main\b/.test(commandLine);
  } catch {
    return true;
  }
}

function readFile(): DevConnection | undefined {
  if (!existsSync(DEV_CONNECTION_FILE)) return undefined;
  try {
    const content = JSON.parse(readFileSync(DEV_CONNECTION_FILE, 'utf8')) as DevConnection;
    return typeof content.pid === 'number' ? content : undefined;
  } catch {
    return undefined;
  }
}

/** The `npm start` whose process is alive, ready or still starting; undefined when none is (a file left by one that died is stale). */
export function runningDevMode(): DevConnection | undefined {
  const content = readFile();
  return content !== undefined && content.pid !== process.pid && isAlive(content.pid) ? content : undefined;
}

/** The running `npm start`'s settings, or undefined when none is running or it is still starting. */
export function readDevConnection(): DevConnection | undefined {
  const content = runningDevMode();
  return content !== undefined && content.state !== 'starting' ? content : undefined;
}

function temporaryFile(): string {
  return `${DEV_CONNECTION_FILE}.${process.pid}.tmp`;
}

/**
 * Claims the data directory for this process (creating it), or throws DevModeRunningError when a
 * live `npm start` holds it. A file whose process is gone is replaced. The file appears whole or not
 * at all: it is written aside and hard-linked into place, which fails when one is already there.
 */
export function claimDevConnection(details: Pick<DevConnection, 'dataDir' | 'temporalUi'>): void {
  mkdirSync(DEV_DATA_DIR, { recursive: true });
  const content: DevConnection = { pid: process.pid, startedAt: new Date().toISOString(), state: 'starting', ...details, env: {} };
  const temporary = temporaryFile();
  writeFileSync(temporary, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  const link = (): boolean => {
    try {
      linkSync(temporary, DEV_CONNECTION_FILE);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const running = runningDevMode();
      if (running) throw new DevModeRunningError(running);
      return false;
    }
  };
  try {
    if (link()) return;
    rmSync(DEV_CONNECTION_FILE, { force: true });
    if (!link()) throw new Error(`${DEV_CONNECTION_FILE} reappeared while a stale copy was replaced`);
  } finally {
    rmSync(temporary, { force: true });
  }
}

/** Publishes the settings of the pieces once they all answer; the CLI uses them from then on. */
export function writeDevConnection(env: Record<string, string>, details: Pick<DevConnection, 'dataDir' | 'temporalUi' | 'metricsUrl'> = {}): void {
  const existing = readFile();
  const content: DevConnection = {
    pid: process.pid,
    startedAt: existing?.pid === process.pid ? existing.startedAt : new Date().toISOString(),
    state: 'ready',
    ...details,
    env,
  };
  mkdirSync(DEV_DATA_DIR, { recursive: true });
  const temporary = temporaryFile();
  writeFileSync(temporary, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  // A reader sees the old content or the new, never half of it.
  renameSync(temporary, DEV_CONNECTION_FILE);
}

/** Removes the file when it is this process's: another `npm start`'s claim is never touched. */
export function removeDevConnection(): void {
  if (readFile()?.pid === process.pid) rmSync(DEV_CONNECTION_FILE, { force: true });
}
