import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * While `npm start` runs, it leaves the connection settings of its embedded pieces here, so that
 * the CLI in another terminal reaches it with no variable set. Only dev-mode values are written
 * (the embedded Postgres, the dev server, the fake Trustpilot's published test credentials).
 */
/** Where `npm start` keeps its data: `.data/` in the checkout, unless TRUSTPILOT_DEV_DATA_DIR says otherwise. */
export const DEV_DATA_DIR = resolve(process.env.TRUSTPILOT_DEV_DATA_DIR?.trim() || resolve(import.meta.dirname, '..', '..', '.data'));
const DISCOVERY_FILE = resolve(DEV_DATA_DIR, 'dev-connection.json');

export interface DevConnection {
  pid: number;
  startedAt: string;
  env: Record<string, string>;
}

export function writeDevConnection(env: Record<string, string>): void {
  mkdirSync(DEV_DATA_DIR, { recursive: true });
  const content: DevConnection = { pid: process.pid, startedAt: new Date().toISOString(), env };
  writeFileSync(DISCOVERY_FILE, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
}

export function removeDevConnection(): void {
  rmSync(DISCOVERY_FILE, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The running `npm start`'s settings, or undefined when none is running. */
export function readDevConnection(): DevConnection | undefined {
  if (!existsSync(DISCOVERY_FILE)) return undefined;
  try {
    const content = JSON.parse(readFileSync(DISCOVERY_FILE, 'utf8')) as DevConnection;
    return typeof content.pid === 'number' && isAlive(content.pid) ? content : undefined;
  } catch {
    return undefined;
  }
}
