#!/usr/bin/env node
// The MySQL/MariaDB engine's tests run a real MariaDB server (test/integration/mariadb-server.ts
// starts one per test run, on a free port, with a data directory of its own). This finds
// Debian's MariaDB binaries, or installs the `mariadb-server` package where the machine allows it
// (root and apt-get), and says in one line what it found, what it did, or why it could not.
// No server is left running: the package's own service is kept from starting (policy-rc.d).
import { accessSync, constants, existsSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { delimiter, join } from 'node:path';

const BINARIES = ['mariadbd', 'mariadb-install-db'];
// Debian puts mariadbd in /usr/sbin, which a non-root PATH often lacks.
const EXTRA_DIRS = ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin'];

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findMariaDbBinary(name) {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...EXTRA_DIRS];
  return dirs.map((dir) => join(dir, name)).find(isExecutable);
}

function versionOf(mariadbd) {
  const result = spawnSync(mariadbd, ['--version'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

function found() {
  const paths = BINARIES.map(findMariaDbBinary);
  return paths.every(Boolean) ? paths : undefined;
}

function run(command, args) {
  const result = spawnSync(command, args, {
    encoding: 'utf8',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { ok: result.status === 0, output: `${result.stdout ?? ''}${result.stderr ?? ''}`.trim() };
}

/** apt-get install, with the lists refreshed first only when the install cannot find the package. */
function aptInstall() {
  const install = () => run('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'mariadb-server']);
  let result = install();
  if (!result.ok) {
    const update = run('apt-get', ['update', '-q']);
    if (!update.ok) return { ok: false, output: update.output };
    result = install();
  }
  return result;
}

function lastLines(text, count = 3) {
  return text.split('\n').filter((line) => line.trim() !== '').slice(-count).join(' | ');
}

function main() {
  const existing = found();
  if (existing) {
    console.log(`MariaDB: using ${existing[0]} (${versionOf(existing[0]) ?? 'unknown version'}) for the MySQL/MariaDB tests`);
    return;
  }
  const isRoot = process.getuid?.() === 0;
  const hasApt = findMariaDbBinary('apt-get') !== undefined;
  if (!isRoot || !hasApt) {
    console.warn(
      `MariaDB: not installed (${!hasApt ? 'no apt-get on this machine' : 'not running as root, so apt-get cannot install it'}); ` +
        `the MySQL/MariaDB integration tests need mariadbd and mariadb-install-db: install Debian's mariadb-server package (or put MariaDB's binaries on PATH), then run npm test`,
    );
    return;
  }
  console.log('MariaDB: installing Debian\'s mariadb-server package (apt-get; its service is not started) ...');
  // The package starts its own service unless a policy says not to; the tests start their own server.
  const policy = '/usr/sbin/policy-rc.d';
  const ownPolicy = !existsSync(policy);
  if (ownPolicy) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  let result;
  try {
    result = aptInstall();
  } finally {
    if (ownPolicy) rmSync(policy, { force: true });
  }
  const installed = found();
  if (!result.ok || !installed) {
    console.warn(`MariaDB: apt-get could not install mariadb-server (${lastLines(result.output) || 'no output'}); the MySQL/MariaDB integration tests will fail until it is installed`);
    return;
  }
  console.log(`MariaDB: installed ${installed[0]} (${versionOf(installed[0]) ?? 'unknown version'})`);
}

main();
