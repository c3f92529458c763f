import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { inject } from 'vitest';

/**
 * Files for the files engine's tests: a scratch root folder per test file, Parquet and CSV
 * written by a DuckDB of the test's own (with full access, unlike the engine's), and buckets on
 * the run's S3-compatible server.
 */

const EXTENSIONS = fileURLToPath(new URL('../../.tools/duckdb-extensions', import.meta.url));

export function scratchRoot(name: string): { root: string; url: string; write(path: string, text: string | Buffer): string; remove(): void } {
  const root = mkdtempSync(join(tmpdir(), `tpi-files-${name}-`));
  return {
    root,
    url: `file://${root}`,
    write(path, text) {
      const target = join(root, path);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, text);
      return target;
    },
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** The run's S3 server, or a failure that says why it is missing (these tests are never skipped). */
export function s3Endpoint(): string {
  const s3 = inject('s3');
  if ('unavailable' in s3) throw new Error(`the S3-compatible test server (moto) is not running: ${s3.unavailable}`);
  return s3.endpoint;
}

export const S3_KEYS = { id: 'tpi-test-key', secret: 'tpi-test-secret' };

/** Creates a bucket on the test S3 server. */
export async function createBucket(bucket: string): Promise<void> {
  const response = await fetch(`http://${s3Endpoint()}/${bucket}`, { method: 'PUT' });
  if (!response.ok) throw new Error(`creating bucket ${bucket}: HTTP ${response.status}`);
}

/** The environment of a warehouse `name` over s3://bucket/prefix on the test server. */
export function s3WarehouseEnv(name: string, bucket: string, prefix: string): NodeJS.ProcessEnv {
  const upper = name.toUpperCase();
  return {
    [`WAREHOUSE_${upper}_URL`]: `s3://${bucket}/${prefix}?endpoint=${s3Endpoint()}&url_style=path&use_ssl=false&region=us-east-1`,
    [`WAREHOUSE_${upper}_S3_ACCESS_KEY_ID`]: S3_KEYS.id,
    [`WAREHOUSE_${upper}_S3_SECRET_ACCESS_KEY`]: S3_KEYS.secret,
  };
}

/** Runs `COPY (select) TO target` in a DuckDB with full access (local paths, and s3:// on the test server). */
export async function writeWithDuckDb(select: string, target: string, format: 'parquet' | 'csv' = 'parquet'): Promise<void> {
  const instance = await DuckDBInstance.create(':memory:', { extension_directory: EXTENSIONS, autoinstall_known_extensions: 'false', autoload_known_extensions: 'false' });
  const connection = await instance.connect();
  try {
    await connection.run(`SET TimeZone = 'UTC'`);
    if (target.startsWith('s3://')) {
      await connection.run('LOAD httpfs');
      await connection.run(
        `CREATE SECRET (TYPE s3, KEY_ID '${S3_KEYS.id}', SECRET '${S3_KEYS.secret}', ENDPOINT '${s3Endpoint()}', URL_STYLE 'path', USE_SSL false, REGION 'us-east-1')`,
      );
    } else mkdirSync(dirname(target), { recursive: true });
    await connection.run(`COPY (${select}) TO '${target.replaceAll("'", "''")}' (FORMAT ${format}${format === 'csv' ? ', HEADER true' : ''})`);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** A sink that keeps what a scan streams (COPY text). */
export function collector(): { sink: Writable; lines: () => string[] } {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  return {
    sink,
    lines: () =>
      Buffer.concat(chunks)
        .toString('utf8')
        .split('\n')
        .filter((line) => line !== ''),
  };
}

/** Orders as a segment's rows, in SQL: `count` rows keyed `<prefix>-NNN`, created an hour apart from `start`. */
export function ordersSelect(prefix: string, count: number, start = '2026-01-01 00:00:00', from = 1): string {
  return `SELECT '${prefix}-' || lpad(CAST(i AS VARCHAR), 3, '0') AS order_id, 'Buyer ${prefix} ' || i AS customer_name,
    lower('${prefix}') || '.' || i || '@shop.example.com' AS customer_email, TIMESTAMP '${start}' + i * INTERVAL 1 HOUR AS created_at
    FROM range(${from}, ${from + count}) t(i)`;
}
