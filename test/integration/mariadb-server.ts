import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { delimiter, join } from 'node:path';
import mysql from 'mysql2/promise';
import { freePort } from '../../src/dev/free-port.ts';

/**
 * A real MariaDB server for the MySQL engine's tests, from Debian's packages (`npm run setup`
 * installs them where it can): initialised in a temporary directory, started on a free loopback
 * port as a non-root user (`mysql`, which the package creates), stopped and deleted at the end.
 */

export interface MariaDbServer {
  /** an administrator that may create databases, users and roles: `mysql://tpi_admin:…@127.0.0.1:<port>/` */
  adminUrl: string;
  port: number;
  /** e.g. `10.11.19-MariaDB-0+deb12u1` */
  version: string;
  stop(): Promise<void>;
}

const ADMIN = { user: 'tpi_admin', password: 'tpi-admin' };
const EXTRA_DIRS = ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin'];

function findBinary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...EXTRA_DIRS];
  return dirs
    .map((dir) => join(dir, name))
    .find((path) => {
      try {
        accessSync(path, constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

/** The unprivileged user the server runs as when the tests run as root (mariadbd refuses root unless told). */
function serverUser(): { name: string; uid: number; gid: number } | undefined {
  if (userInfo().uid !== 0) return undefined;
  for (const name of ['mysql', 'postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
      return { name, uid, gid };
    } catch {
      // not on this machine: the next one
    }
  }
  throw new Error('running as root, but no unprivileged user (mysql, postgres, nobody) exists to run MariaDB as');
}

function lastLines(path: string): string {
  try {
    return readFileSync(path, 'utf8').split('\n').filter((line) => /ERROR|\[ERROR\]|Warning|ready/i.test(line)).slice(-4).join(' | ');
  } catch {
    return '';
  }
}

async function waitUntilReady(port: number, child: ChildProcess, errorLog: string): Promise<mysql.Connection> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mariadbd exited (${child.exitCode}) while starting: ${lastLines(errorLog) || 'no log'}`);
    try {
      // mariadb-install-db creates root@127.0.0.1 without a password: reachable only on this loopback port.
      return await mysql.createConnection({ host: '127.0.0.1', port, user: 'root', password: '', multipleStatements: false });
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`mariadbd did not accept connections on port ${port} within 60s: ${lastLines(errorLog)}`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

export async function startMariaDb(): Promise<MariaDbServer> {
  const mariadbd = findBinary('mariadbd');
  const installDb = findBinary('mariadb-install-db');
  if (mariadbd === undefined || installDb === undefined) {
    throw new Error(
      'MariaDB is not installed, and the MySQL/MariaDB tests need it: run `npm run setup` (as root it installs Debian\'s mariadb-server) or install the mariadb-server package, so that mariadbd and mariadb-install-db are found',
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'tpi-mariadb-'));
  let child: ChildProcess | undefined;
  const stop = async () => {
    const running = child;
    child = undefined;
    if (running && running.exitCode === null) {
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGTERM');
      const timer = setTimeout(() => running.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const user = serverUser();
    const dataDir = join(dir, 'data');
    const filesDir = join(dir, 'files');
    await mkdir(filesDir);
    await chmod(dir, 0o755);
    if (user) for (const path of [dir, filesDir]) await chown(path, user.uid, user.gid);
    const userArgs = user ? [`--user=${user.name}`] : [];
    execFileSync(installDb, ['--no-defaults', `--datadir=${dataDir}`, ...userArgs, '--auth-root-authentication-method=normal', '--skip-test-db', '--skip-name-resolve'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const port = await freePort();
    const errorLog = join(dir, 'error.log');
    child = spawn(
      mariadbd,
      [
        '--no-defaults',
        `--datadir=${dataDir}`,
        ...userArgs,
        `--port=${port}`,
        '--bind-address=127.0.0.1',
        `--socket=${join(dir, 'mariadb.sock')}`,
        `--pid-file=${join(dir, 'mariadb.pid')}`,
        `--log-error=${errorLog}`,
        `--secure-file-priv=${filesDir}`,
        '--skip-name-resolve',
        '--skip-log-bin',
        '--innodb-buffer-pool-size=256M',
        '--innodb-flush-log-at-trx-commit=2',
        '--max-connections=300',
        '--character-set-server=utf8mb4',
        '--collation-server=utf8mb4_general_ci',
      ],
      { stdio: 'ignore' },
    );
    const root = await waitUntilReady(port, child, errorLog);
    let version: string;
    try {
      await root.query(`CREATE USER '${ADMIN.user}'@'%' IDENTIFIED BY '${ADMIN.password}'`);
      await root.query(`GRANT ALL PRIVILEGES ON *.* TO '${ADMIN.user}'@'%' WITH GRANT OPTION`);
      const [rows] = await root.query<mysql.RowDataPacket[]>('SELECT VERSION() AS version');
      version = String(rows[0]?.version ?? 'unknown');
    } finally {
      await root.end();
    }
    return { adminUrl: `mysql://${ADMIN.user}:${ADMIN.password}@127.0.0.1:${port}/`, port, version, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
