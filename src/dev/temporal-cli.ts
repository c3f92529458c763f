import { accessSync, constants } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

const projectRoot = resolve(import.meta.dirname, '..', '..');
const executableName = process.platform === 'win32' ? 'temporal.exe' : 'temporal';

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export type TemporalCliLocation =
  | { source: 'TEMPORAL_CLI_PATH' | 'PATH' | 'project tools'; path: string }
  | { source: 'SDK download' };

/**
 * Where the Temporal CLI comes from: TEMPORAL_CLI_PATH, then PATH, then the copy `npm run setup`
 * put in .tools/, then the SDK's own download (which needs internet).
 */
export function findTemporalCli(env: NodeJS.ProcessEnv = process.env): TemporalCliLocation {
  const explicit = env.TEMPORAL_CLI_PATH?.trim();
  if (explicit) {
    if (!isExecutable(explicit)) throw new Error(`TEMPORAL_CLI_PATH=${explicit} is not an executable file`);
    return { source: 'TEMPORAL_CLI_PATH', path: explicit };
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    const candidate = dir ? join(dir, executableName) : '';
    if (candidate && isExecutable(candidate)) return { source: 'PATH', path: candidate };
  }
  const local = join(projectRoot, '.tools', 'bin', executableName);
  if (isExecutable(local)) return { source: 'project tools', path: local };
  return { source: 'SDK download' };
}
