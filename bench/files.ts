import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { sql } from 'kysely';
import { from as copyFrom } from 'pg-copy-streams';
import { saveActivation, saveDestination } from '../src/db/config-store.ts';
import { FAKE_DEFAULTS } from '../src/fake-trustpilot/server.ts';
import { createScenario, spawnAppWorker, type BenchEnvironment, type Scenario, type WorkerProcess } from './environment.ts';
import { median, type Figure } from './figures.ts';

/**
 * Detection over a files warehouse: a run over N rows of an export (Parquet part files, or CSV)
 * whose every row is already sent, against what the diff minimally costs, measured in the same
 * run: DuckDB reading the key column of the same files, streamed into a session table of the app
 * database, and one anti-join against the ledger.
 */

const PARTS = 4;
const round = (value: number, digits = 3) => Number(value.toFixed(digits));

async function writeExport(folder: string, rows: number, format: 'parquet' | 'csv'): Promise<void> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    mkdirSync(folder, { recursive: true });
    const per = Math.ceil(rows / PARTS);
    for (let part = 0; part < PARTS; part++) {
      const from = part * per + 1;
      const to = Math.min(rows, (part + 1) * per);
      await connection.run(`COPY (
        SELECT 'R-' || lpad(CAST(n AS VARCHAR), 8, '0') AS order_id, 'Customer ' || n AS customer_name,
               'bench' || n || '@shop.example.com' AS customer_email, TIMESTAMP '2026-01-01' + n * INTERVAL 1 SECOND AS created_at
          FROM range(${from}, ${to + 1}) t(n)
      ) TO '${folder}/part-${String(part).padStart(5, '0')}.${format}' (FORMAT ${format}${format === 'csv' ? ', HEADER true' : ''})`);
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** The baseline: DuckDB reads the key column of the export into the app database, then one anti-join. */
async function duckDbCopyAndAntiJoin(scenario: Scenario, folder: string, format: 'parquet' | 'csv'): Promise<number> {
  const started = performance.now();
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await instance.connect();
  const app = await scenario.app.pool.connect();
  try {
    await app.query('create temp table baseline_keys (row_key text)');
    const sink = app.query(copyFrom('copy baseline_keys from stdin'));
    const reader = format === 'parquet' ? `read_parquet('${folder}/*.parquet')` : `read_csv('${folder}/*.csv', header = true)`;
    const result = await connection.stream(`SELECT order_id FROM ${reader}`);
    for (;;) {
      const chunk = await result.fetchChunk();
      if (chunk === null || chunk.rowCount === 0) break;
      const vector = chunk.getColumnVector(0);
      let text = '';
      for (let row = 0; row < chunk.rowCount; row++) text += `${String(vector.getItem(row))}\n`;
      if (!sink.write(text)) await new Promise((resolve) => sink.once('drain', resolve));
    }
    await new Promise<void>((resolve, reject) => sink.end((error?: Error | null) => (error ? reject(error) : resolve())));
    await app.query(`select count(*) from baseline_keys k where not exists (select 1 from app.ledger l where l.activation_id = 'bench' and l.row_key = k.row_key)`);
    const seconds = (performance.now() - started) / 1000;
    await app.query('drop table baseline_keys');
    return seconds;
  } finally {
    app.release();
    connection.closeSync();
    instance.closeSync();
  }
}

/** A run over an export of `rows` rows, all of them already sent: the cost of detecting nothing new. */
export async function filesDetectionFigures(env: BenchEnvironment, rows: number, format: 'parquet' | 'csv', repeats: number, log: (line: string) => void): Promise<Figure[]> {
  const root = mkdtempSync(join(tmpdir(), 'tpi-bench-files-'));
  const folder = join(root, 'export');
  const scenario = await createScenario(env, `files${format}${rows}`);
  let worker: WorkerProcess | undefined;
  try {
    await writeExport(folder, rows, format);
    await saveDestination(scenario.app.db, { id: 'bench', businessUnitId: FAKE_DEFAULTS.businessUnitId, invitationType: 'service', rateLimit: { calls: 1_000_000, perSeconds: 1 } });
    await saveActivation(scenario.app.db, {
      id: 'bench',
      destinationId: 'bench',
      source: { kind: 'files', warehouse: 'exports', format, path: 'export' },
      primaryKey: 'order_id',
      mapping: { consumerName: 'customer_name', consumerEmail: 'customer_email', referenceNumber: 'order_id' },
      schedule: { every: '1d' },
    });
    await sql`insert into app.runs (activation_id, workflow_id, status, config, finished_at) values ('bench', 'bench-seed', 'succeeded', '{}', now())`.execute(scenario.app.db);
    await sql`
      insert into app.ledger (activation_id, row_key, status, fingerprint, first_run_id, last_run_id, sent_at)
      select 'bench', 'R-' || lpad(n::text, 8, '0'), 'sent', null, 1, 1, now() from generate_series(1, ${rows}) n`.execute(scenario.app.db);
    await sql`analyze app.ledger`.execute(scenario.app.db);
    worker = await spawnAppWorker(env, scenario, { WAREHOUSE_EXPORTS_URL: `file://${root}` });
    const products: number[] = [];
    const baselines: number[] = [];
    for (let repeat = 0; repeat < repeats; repeat++) {
      const baseline = await duckDbCopyAndAntiJoin(scenario, folder, format);
      const started = performance.now();
      const summary = await (await scenario.client.start('bench')).result();
      const seconds = (performance.now() - started) / 1000;
      if (summary.newRows !== 0 || summary.sourceRows !== rows) throw new Error(`unexpected detection result: ${JSON.stringify(summary)}`);
      products.push(seconds);
      baselines.push(baseline);
      log(`  detect ${rows} ${format} rows (files): run ${seconds.toFixed(2)}s, DuckDB key column + anti-join ${baseline.toFixed(2)}s`);
    }
    const label = rows >= 1_000_000 ? `${rows / 1_000_000}M` : `${rows / 1000}k`;
    return [
      {
        name: `detect, files: ${label}-row ${format === 'parquet' ? 'Parquet' : 'CSV'} export (${PARTS} part files), none new (min of ${repeats})`,
        product: round(Math.min(...products)),
        baseline: round(Math.min(...baselines)),
        ratio: round(Math.min(...products) / Math.min(...baselines), 2),
        unit: 's',
        target: '≤ 3',
        note: `median ${median(products).toFixed(2)}s vs ${median(baselines).toFixed(2)}s`,
      },
      { name: `worker peak RSS, detecting a ${label}-row ${format === 'parquet' ? 'Parquet' : 'CSV'} export`, product: round(worker.peakRssMiB(), 0), baseline: null, ratio: null, unit: 'MiB', target: '< 250' },
    ];
  } finally {
    await worker?.stop();
    await scenario.close();
    rmSync(root, { recursive: true, force: true });
  }
}
