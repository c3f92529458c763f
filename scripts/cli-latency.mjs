#!/usr/bin/env node
// How long the operator CLI takes before it can do anything: `node dist/cli/main.js --help`,
// timed beside `node -e 0` (Node's own start-up on this machine) in the same run.
//
//   node scripts/cli-latency.mjs [runs=5]      (npm run bench:cli)
//
// Builds dist/ first when it is stale (not timed). One untimed warm-up of each command, then the
// two are timed alternately so that both see the same machine load. Target: the CLI's median
// under 1 s. Commands that read the database are left out: they need one.
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const runs = Number.parseInt(process.argv[2] ?? '5', 10);
if (!Number.isInteger(runs) || runs < 1) {
  console.error('usage: node scripts/cli-latency.mjs [runs=5]');
  process.exit(64);
}
const TARGET_MS = 1000;

const build = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs'), '--if-stale'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

const commands = [
  { name: 'node -e 0', args: ['-e', '0'] },
  { name: 'node dist/cli/main.js --help', args: [join('dist', 'cli', 'main.js'), '--help'] },
];

function timeOnce(args) {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`node ${args.join(' ')} exited with ${result.status ?? result.signal}: ${result.stderr.trim()}`);
  return ms;
}

for (const command of commands) timeOnce(command.args);
const samples = commands.map(() => []);
for (let run = 0; run < runs; run += 1) {
  commands.forEach((command, index) => samples[index].push(timeOnce(command.args)));
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const format = (ms) => `${ms.toFixed(0).padStart(5)} ms`;

console.log(`CLI start-up latency (${runs} runs each, after one warm-up; ${process.version}, ${process.platform}/${process.arch})`);
const rows = commands.map((command, index) => ({ name: command.name, min: Math.min(...samples[index]), median: median(samples[index]), all: samples[index] }));
for (const row of rows) {
  console.log(`  ${row.name.padEnd(30)} min ${format(row.min)}   median ${format(row.median)}   (${row.all.map((ms) => ms.toFixed(0)).join(', ')})`);
}
const [baseline, cli] = rows;
console.log(`  CLI over Node's own start-up: ${format(cli.median - baseline.median).trim()} (median)`);
console.log(`  target: median under ${TARGET_MS} ms: ${cli.median < TARGET_MS ? 'met' : 'NOT met'}`);
