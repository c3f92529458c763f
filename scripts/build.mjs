#!/usr/bin/env node
// Compiles src/ to dist/ (ESM JavaScript, tsconfig.build.json) and writes dist/workflow-bundle.js,
// the workflow code prebuilt with Temporal's bundler, which src/runtime/worker.ts loads when present.
//
//   node scripts/build.mjs                      build now (`npm run build`; the Dockerfile)
//   node scripts/build.mjs --if-stale           build only when an input is newer than the last build,
//                                               else return at once (`npm run setup`)
//   --allow-type-errors                         emit all the same when tsc reports type errors, and
//                                               only warn about the devDependency check below; what
//                                               `npm start`, `worker`, `cli` and `fake-trustpilot`
//                                               use, as tsx did. Without it both fail the build and
//                                               leave dist/ as it was.
//
// Inputs: every file and folder under src/ (a deleted or renamed file changes its folder's mtime),
// package-lock.json, tsconfig.json, tsconfig.build.json and this script. The build is written to a
// scratch folder and swapped in whole, so a process starting meanwhile never sees half a dist/; tsc
// runs incrementally from the previous build (dist/.tsbuildinfo), and outputs whose source was
// deleted are removed. Messages go to stderr: `npm run cli -- … --json` keeps a clean stdout.
//
// A production install (`npm ci --omit=dev`, the Docker image) has no devDependencies: the build
// fails when the production entry points (dist/worker.js, dist/cli/main.js) can reach one through
// their relative imports (static, or dynamic with a literal path).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const srcDir = join(root, 'src');
const distDir = join(root, 'dist');
const stampFile = join(distDir, '.build-stamp');
const bundleFile = join(distDir, 'workflow-bundle.js');
const lockDir = join(root, '.dist-build.lock');
const INPUT_FILES = ['package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts/build.mjs'];
const PRODUCTION_ENTRIES = ['worker.js', 'cli/main.js'];

const args = new Set(process.argv.slice(2));
for (const arg of args) {
  if (!['--if-stale', '--allow-type-errors'].includes(arg)) {
    console.error(`build: unknown option ${arg} (options: --if-stale, --allow-type-errors)`);
    process.exit(64);
  }
}
const log = (message) => console.error(`build: ${message}`);

/** The newest mtime among the inputs, and which input has it. */
function newestInput() {
  let newest = { mtimeMs: 0, path: '' };
  const consider = (path) => {
    const { mtimeMs } = statSync(path);
    if (mtimeMs > newest.mtimeMs) newest = { mtimeMs, path };
  };
  const walk = (dir) => {
    consider(dir);
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else consider(path);
    }
  };
  walk(srcDir);
  for (const file of INPUT_FILES) if (existsSync(join(root, file))) consider(join(root, file));
  return newest;
}

/** Why dist/ must be rebuilt, or undefined when it is up to date. */
function staleness() {
  if (!existsSync(stampFile)) return 'no previous build';
  if (!existsSync(bundleFile)) return 'dist/workflow-bundle.js is missing';
  if (!existsSync(srcDir)) return undefined; // an install of dist/ alone: nothing to build from
  const stampTime = statSync(stampFile).mtimeMs;
  const newest = newestInput();
  return newest.mtimeMs > stampTime ? `${relative(root, newest.path)} changed` : undefined;
}

function processIsAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/** One build at a time (two `npm run …` started together): waits for another builder, then returns. */
async function acquireLock() {
  const deadline = Date.now() + 10 * 60_000;
  for (let waited = false; ; waited = true) {
    try {
      mkdirSync(lockDir);
      writeFileSync(join(lockDir, 'pid'), String(process.pid));
      return waited;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
    let owner = Number.NaN;
    try {
      owner = Number(readFileSync(join(lockDir, 'pid'), 'utf8'));
    } catch {
      // the owner is between mkdir and writing its pid, or has just released the lock
    }
    if (Number.isInteger(owner) && owner > 0 && !processIsAlive(owner)) {
      rmSync(lockDir, { recursive: true, force: true });
      continue;
    }
    if (!waited) log('another build is running; waiting for it');
    if (Date.now() > deadline) throw new Error(`timed out waiting for the build lock ${relative(root, lockDir)} (remove it if no build is running)`);
    await new Promise((resolveWait) => setTimeout(resolveWait, 200));
  }
}

function releaseLock() {
  rmSync(lockDir, { recursive: true, force: true });
}

function compile(outDir) {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  // tsc prints its diagnostics on stdout: send them to stderr with ours.
  const options = ['--outDir', outDir, '--incremental', '--tsBuildInfoFile', join(outDir, '.tsbuildinfo')];
  const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), ...options], {
    cwd: root,
    stdio: ['ignore', 2, 2],
  });
  if (result.error) throw result.error;
  // 0: clean; 2: type errors, files emitted; anything else: nothing (usable) emitted.
  if (result.status === 0) return;
  if (result.status === 2 && args.has('--allow-type-errors')) {
    log('type errors above; emitted anyway (--allow-type-errors)');
    return;
  }
  throw new BuildError(
    result.status === 2
      ? 'type errors (above): dist/ left unchanged. Fix them, or pass --allow-type-errors to emit anyway'
      : `tsc exited with ${result.status ?? result.signal}`,
  );
}

/** Removes compiled files whose source is gone (the scratch folder starts as a copy of dist/). */
function pruneOrphans(outDir) {
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        walk(path);
        if (readdirSync(path).length === 0) rmSync(path, { recursive: true });
        continue;
      }
      const base = /^(.*)\.js(\.map)?$/.exec(relative(outDir, path))?.[1];
      if (base === undefined || base === 'workflow-bundle') continue;
      if (!existsSync(join(srcDir, `${base}.ts`))) rmSync(path);
    }
  };
  walk(outDir);
}

const IMPORT_PATTERNS = [
  /(?:^|[\s;})])(?:import|export)\s[^'"`;]*?\sfrom\s*['"]([^'"]+)['"]/g, // import x from '…', export … from '…'
  /(?:^|[\s;})])import\s*['"]([^'"]+)['"]/g, // import '…'
  /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g, // import('…')
  /\brequire(?:\.resolve)?\(\s*['"]([^'"]+)['"]\s*\)/g, // require('…'), require.resolve('…')
  /\bcreateRequire\([^)]*\)\.resolve\(\s*['"]([^'"]+)['"]\s*\)/g, // createRequire(…).resolve('…')
];

const packageOf = (specifier) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');

/** `a.js -> b.js -> pkg` chains from the production entries to devDependencies, or missing modules. */
function productionImportProblems(outDir) {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const devOnly = new Set(Object.keys(manifest.devDependencies ?? {}).filter((name) => !(name in (manifest.dependencies ?? {}))));
  const problems = [];
  const parents = new Map();
  const chain = (file) => {
    const names = [];
    for (let at = file; at !== undefined; at = parents.get(at)) names.unshift(relative(outDir, at));
    return names.join(' -> ');
  };
  const queue = PRODUCTION_ENTRIES.map((entry) => join(outDir, entry));
  for (const entry of queue) parents.set(entry, undefined);
  while (queue.length > 0) {
    const file = queue.shift();
    if (!existsSync(file)) {
      problems.push(`${chain(file)}: module not found`);
      continue;
    }
    const code = readFileSync(file, 'utf8');
    for (const pattern of IMPORT_PATTERNS) {
      for (const match of code.matchAll(pattern)) {
        const specifier = match[1];
        if (specifier.startsWith('.')) {
          const target = resolve(dirname(file), specifier);
          if (!parents.has(target)) {
            parents.set(target, file);
            queue.push(target);
          }
        } else if (devOnly.has(packageOf(specifier))) {
          problems.push(`${chain(file)} -> ${specifier} (a devDependency)`);
        }
      }
    }
  }
  return problems;
}

async function bundleWorkflows(outDir) {
  const { bundleWorkflowCode } = await import('@temporalio/worker');
  const quiet = () => undefined;
  const { code } = await bundleWorkflowCode({
    workflowsPath: join(outDir, 'workflows', 'index.js'),
    logger: { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: (message) => log(`workflow bundler: ${message}`), error: (message) => log(`workflow bundler: ${message}`) },
    // The worker maps stack-trace positions through the bundle's inline source map; it never shows
    // the sources' text, which would make up most of the map and be held in memory by every worker.
    webpackConfigHook: (config) => ({ ...config, devtool: 'inline-nosources-source-map' }),
  });
  writeFileSync(join(outDir, 'workflow-bundle.js'), code);
  return code.length;
}

class BuildError extends Error {}

async function build(reason) {
  const started = Date.now();
  // Fixed names (the lock makes this the only builder): tsc's incremental state records its outDir.
  const scratch = join(root, '.dist-build');
  const retired = join(root, '.dist-old');
  rmSync(scratch, { recursive: true, force: true });
  rmSync(retired, { recursive: true, force: true });
  if (existsSync(join(distDir, '.tsbuildinfo'))) cpSync(distDir, scratch, { recursive: true });
  log(`${reason}: building dist/ …`);
  try {
    compile(scratch);
    pruneOrphans(scratch);
    const problems = productionImportProblems(scratch);
    if (problems.length > 0) {
      const message = `production entry points reach what a production install (npm ci --omit=dev) lacks:\n  ${problems.join('\n  ')}`;
      if (!args.has('--allow-type-errors')) throw new BuildError(`${message}\nImport it lazily from dev-only code, or make it a dependency.`);
      log(`warning: ${message}`);
    }
    const compiled = Date.now();
    const bundleBytes = await bundleWorkflows(scratch);
    writeFileSync(
      join(scratch, '.build-stamp'),
      `${JSON.stringify({ builtAt: new Date(started).toISOString(), node: process.version, reason }, null, 2)}\n`,
    );
    // Whatever changes from now on is newer than this build.
    utimesSync(join(scratch, '.build-stamp'), new Date(started), new Date(started));
    if (existsSync(distDir)) renameSync(distDir, retired);
    renameSync(scratch, distDir);
    rmSync(retired, { recursive: true, force: true });
    log(
      `dist/ built in ${((Date.now() - started) / 1000).toFixed(1)} s ` +
        `(tsc ${((compiled - started) / 1000).toFixed(1)} s, workflow bundle ${((Date.now() - compiled) / 1000).toFixed(1)} s, ${(bundleBytes / 1024).toFixed(0)} KiB)`,
    );
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    if (existsSync(retired) && !existsSync(distDir)) renameSync(retired, distDir);
  }
}

async function main() {
  const ifStale = args.has('--if-stale');
  if (ifStale && staleness() === undefined) return;
  const waited = await acquireLock();
  try {
    // A build that finished while we waited may have done our work.
    const reason = ifStale || waited ? staleness() : 'requested';
    if (reason !== undefined) await build(reason);
  } finally {
    releaseLock();
  }
}

main().catch((error) => {
  log(error instanceof BuildError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
