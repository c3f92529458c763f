/**
 * `npm run bench`: every performance figure beside its baseline, measured in the same run on
 * the same servers (the machine is shared and noisy, so only same-minute ratios mean anything).
 *   npm run bench -- --quick      about 4 minutes: 100k-row detection, 1M-row files and MySQL detection, 2,000-row send, a short pacing check, CLI latency
 *   npm run bench                 adds 1M-row detection, the 1k / 5k / 20k sending table and longer pacing checks
 *   npm run bench -- --json       one JSON object: { "figures": [ { name, product, baseline, ratio, unit } ] }
 *   npm run bench -- --only mysql one set of figures alone: mysql (on a MariaDB the bench starts) or files (1M-row Parquet and CSV exports)
 * Ports: Postgres and the Temporal dev server get free ports picked just before they bind; the
 * fake Trustpilot binds port 0 itself.
 */
import { execFileSync, spawn } from 'node:child_process';
import { writeSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { Command } from 'commander';
import Table from 'cli-table3';
import { installTelemetry } from '../src/runtime/telemetry.ts';
import { startEnvironment } from './environment.ts';
import { cliFigures, detectionFigures, pacingFigure, sendingFigures, type Figure } from './figures.ts';
import { filesDetectionFigures } from './files.ts';
import { mysqlDetectionFigures } from './mysql.ts';

const options = new Command()
  .name('bench')
  .option('--quick', 'the short set (about 4 minutes)')
  .option('--json', 'print one JSON object instead of a table')
  .option('--only <set>', 'measure one set of figures alone: mysql or files')
  .parse()
  .opts<{ quick?: boolean; json?: boolean; only?: string }>();
if (options.only !== undefined && options.only !== 'mysql' && options.only !== 'files') throw new Error(`--only takes mysql or files; got ${options.only}`);

// The Temporal dev server prints its banner on the stdout it inherits. With --json, stdout must
// carry the one JSON object alone: the bench runs again as a child whose stdout goes to stderr
// and which hands its JSON back on a pipe of its own (fd 3).
const JSON_FD = 3;
if (options.json && process.env.BENCH_JSON_FD !== String(JSON_FD)) {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: ['ignore', 2, 2, 'pipe'],
    env: { ...process.env, BENCH_JSON_FD: String(JSON_FD) },
  });
  const chunks: Buffer[] = [];
  child.stdio[JSON_FD]?.on('data', (chunk: Buffer) => chunks.push(chunk));
  const code = await new Promise<number>((resolve) => child.once('close', (exitCode) => resolve(exitCode ?? 1)));
  process.stdout.write(Buffer.concat(chunks));
  process.exit(code);
}

const log = (line: string) => {
  if (!options.json) console.log(line);
  else console.error(line);
};

function machine(): string {
  return `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
}

installTelemetry({ logLevel: 'ERROR' });
// The product runs compiled, as in production.
execFileSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { stdio: 'inherit' });
const started = performance.now();
const env = await startEnvironment();
const figures: Figure[] = [];
try {
  log(`machine: ${machine()}`);
  if (options.only === 'mysql') figures.push(...(await mysqlDetectionFigures(env, 1_000_000, 3, log)));
  else if (options.only === 'files') {
    figures.push(...(await filesDetectionFigures(env, 1_000_000, 'parquet', 3, log)));
    figures.push(...(await filesDetectionFigures(env, 1_000_000, 'csv', 1, log)));
  } else await allFigures();
} finally {
  await env.close();
}

async function allFigures(): Promise<void> {
  figures.push(...(await detectionFigures(env, 100_000, 3, log)));
  // A files warehouse (DuckDB over an export's part files), 1M rows in the quick set too.
  figures.push(...(await filesDetectionFigures(env, 1_000_000, 'parquet', options.quick ? 1 : 3, log)));
  figures.push(...(await filesDetectionFigures(env, 1_000_000, 'csv', 1, log)));
  // A MySQL warehouse (a MariaDB the bench starts), 1M rows in the quick set too.
  figures.push(...(await mysqlDetectionFigures(env, 1_000_000, options.quick ? 1 : 3, log)));
  figures.push(...(await sendingFigures(env, 2_000, 50, options.quick ? 2 : 3, log)));
  // 20 calls a second, over a 10-second window (a 1-second window would be dominated by the 250 ms minimum headroom).
  figures.push(await pacingFigure(env, 200, 10, options.quick ? 20 : 400, log));
  if (!options.quick) {
    figures.push(...(await detectionFigures(env, 1_000_000, 1, log)));
    for (const rows of [1_000, 5_000, 20_000]) figures.push(...(await sendingFigures(env, rows, 50, 1, log)));
    figures.push(await pacingFigure(env, 50, 60, 100, log));
    figures.push(await pacingFigure(env, 833, 300, 900, log));
  }
  figures.push(...(await cliFigures(env, log)));
}

if (options.json) {
  writeSync(JSON_FD, `${JSON.stringify({ machine: machine(), seconds: Math.round((performance.now() - started) / 1000), figures }, null, 2)}\n`);
} else {
  const table = new Table({ head: ['figure', 'product', 'baseline', 'ratio', 'unit', 'target'], style: { head: [], border: [] }, wordWrap: true, colWidths: [52, 10, 10, 8, 9, 24] });
  for (const figure of figures) table.push([figure.name + (figure.note ? `\n(${figure.note})` : ''), figure.product, figure.baseline ?? '', figure.ratio ?? '', figure.unit, figure.target ?? '']);
  console.log(table.toString());
  console.log(`${Math.round((performance.now() - started) / 1000)} s in all`);
}
