import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { from as copyFrom } from 'pg-copy-streams';
import { createScenario, type BenchEnvironment, type Scenario } from './environment.ts';
import type { Figure } from './figures.ts';
import { rowsLabel, seededDetectionFigures } from './seeded-detection.ts';

/**
 * Detection over a files warehouse: a run over N rows of an export (Parquet part files, or CSV)
 * whose every row is already sent, against what the diff minimally costs, measured in the same
 * run: DuckDB reading the key column of the same files, streamed into a session table of the app
 * database, and one anti-join against the ledger.
 */

const PARTS = 4;

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
  const kind = format === 'parquet' ? 'Parquet' : 'CSV';
  try {
    await writeExport(folder, rows, format);
    return await seededDetectionFigures(
      env,
      scenario,
      {
        source: { kind: 'files', warehouse: 'exports', format, path: 'export' },
        warehouses: { WAREHOUSE_EXPORTS_URL: `file://${root}` },
        rows,
        repeats,
        baseline: () => duckDbCopyAndAntiJoin(scenario, folder, format),
        subject: `files: ${rowsLabel(rows)}-row ${kind} export (${PARTS} part files)`,
        logLine: (run, baseline) => `detect ${rows} ${format} rows (files): run ${run.toFixed(2)}s, DuckDB key column + anti-join ${baseline.toFixed(2)}s`,
      },
      log,
    );
  } finally {
    await scenario.close();
    rmSync(root, { recursive: true, force: true });
  }
}
