import mysql from 'mysql2';
import mysqlPromise from 'mysql2/promise';
import { from as copyFrom } from 'pg-copy-streams';
import { startMariaDb } from '../test/integration/mariadb-server.ts';
import { createScenario, type BenchEnvironment, type Scenario } from './environment.ts';
import type { Figure } from './figures.ts';
import { rowsLabel, seededDetectionFigures } from './seeded-detection.ts';

/**
 * Detection over a MySQL warehouse (MariaDB, started as the tests start it): a run over a table of
 * N rows whose every row is already sent, against what the diff minimally costs, measured in the
 * same run: a streamed SELECT of the key column, as the same reader, into a session table of the
 * app database, and one anti-join against the ledger.
 */

const READER = { user: 'bench_mysql_reader', password: 'bench-mysql-reader' };
const DATABASE = 'bench_shop';

async function createOrders(adminUrl: string, rows: number): Promise<string> {
  const url = new URL(adminUrl);
  const admin = await mysqlPromise.createConnection({ host: url.hostname, port: Number(url.port), user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) });
  try {
    await admin.query(`CREATE DATABASE ${DATABASE} CHARACTER SET utf8mb4`);
    await admin.query(`CREATE TABLE ${DATABASE}.orders (order_id VARCHAR(16) PRIMARY KEY, customer_name VARCHAR(64), customer_email VARCHAR(128), created_at DATETIME(6))`);
    // MariaDB's sequence engine: the rows are made by the server, in one statement.
    await admin.query(`INSERT INTO ${DATABASE}.orders
      SELECT CONCAT('R-', LPAD(seq, 8, '0')), CONCAT('Customer ', seq), CONCAT('bench', seq, '@shop.example.com'), TIMESTAMP '2026-01-01 00:00:00' + INTERVAL seq SECOND
        FROM ${DATABASE}.seq_1_to_${rows}`);
    await admin.query(`CREATE USER ?@'%' IDENTIFIED BY ?`, [READER.user, READER.password]);
    await admin.query(`GRANT SELECT ON ${DATABASE}.* TO ?@'%'`, [READER.user]);
  } finally {
    await admin.end();
  }
  return `mysql://${READER.user}:${READER.password}@127.0.0.1:${url.port}/${DATABASE}`;
}

/** The baseline: the key column streamed out of MySQL as the reader, COPYed into the app database, then one anti-join. */
async function selectAndAntiJoin(scenario: Scenario, readerUrl: string): Promise<number> {
  const started = performance.now();
  const url = new URL(readerUrl);
  const source = mysql.createConnection({ host: url.hostname, port: Number(url.port), user: READER.user, password: READER.password, database: DATABASE });
  const app = await scenario.app.pool.connect();
  try {
    await app.query('create temp table baseline_keys (row_key text)');
    const sink = app.query(copyFrom('copy baseline_keys from stdin'));
    const rows = source.query({ sql: `SELECT order_id FROM orders`, rowsAsArray: true }).stream({ highWaterMark: 512 });
    let text = '';
    for await (const row of rows as AsyncIterable<unknown[]>) {
      text += `${String(row[0])}\n`;
      if (text.length >= 64 * 1024) {
        if (!sink.write(text)) await new Promise((resolve) => sink.once('drain', resolve));
        text = '';
      }
    }
    if (text !== '') sink.write(text);
    await new Promise<void>((resolve, reject) => sink.end((error?: Error | null) => (error ? reject(error) : resolve())));
    await app.query(`select count(*) from baseline_keys k where not exists (select 1 from app.ledger l where l.activation_id = 'bench' and l.row_key = k.row_key)`);
    const seconds = (performance.now() - started) / 1000;
    await app.query('drop table baseline_keys');
    return seconds;
  } finally {
    app.release();
    source.destroy();
  }
}

/** A run over a MySQL table of `rows` rows, all of them already sent: the cost of detecting nothing new. */
export async function mysqlDetectionFigures(env: BenchEnvironment, rows: number, repeats: number, log: (line: string) => void): Promise<Figure[]> {
  const server = await startMariaDb();
  const scenario = await createScenario(env, `mysql${rows}`);
  try {
    const readerUrl = await createOrders(server.adminUrl, rows);
    return await seededDetectionFigures(
      env,
      scenario,
      {
        source: { kind: 'table', warehouse: 'shop', schema: DATABASE, name: 'orders' },
        warehouses: { WAREHOUSE_SHOP_URL: readerUrl },
        rows,
        repeats,
        baseline: () => selectAndAntiJoin(scenario, readerUrl),
        subject: `MySQL (MariaDB): ${rowsLabel(rows)}-row table`,
        logLine: (run, baseline) => `detect ${rows} rows (MySQL, ${server.version}): run ${run.toFixed(2)}s, streamed SELECT of the key + anti-join ${baseline.toFixed(2)}s`,
      },
      log,
    );
  } finally {
    await scenario.close();
    await server.stop();
  }
}
