import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import mysql from 'mysql2/promise';
import { inject } from 'vitest';

/**
 * The MySQL engine's tests against the run's MariaDB server: a database of their own per file
 * (its `schema` in an activation's source), filled by an administrator, read by a user granted
 * SELECT on it alone, as an operator would set it up.
 */

/** The MariaDB server's administrator URL; a test file without one fails, saying why (never skips). */
export function mariaDbAdminUrl(): string {
  const server = inject('mariaDb');
  if ('unavailable' in server) throw new Error(`the MySQL/MariaDB tests need a MariaDB server: ${server.unavailable}`);
  return server.adminUrl;
}

export function mariaDbVersion(): string {
  const server = inject('mariaDb');
  return 'version' in server ? server.version : 'unavailable';
}

/** An administrator's connection: one statement per call, values inlined by the caller's `?` placeholders. */
export async function mysqlAdmin(database?: string): Promise<mysql.Connection> {
  const url = new URL(mariaDbAdminUrl());
  return await mysql.createConnection({
    host: url.hostname,
    port: Number(url.port),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    ...(database === undefined ? {} : { database }),
    charset: 'UTF8MB4_UNICODE_CI',
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    timezone: 'Z',
  });
}

export interface ShopDatabase {
  /** the database (an activation's `source.schema`) */
  database: string;
  admin: mysql.Connection;
  /** the reader: SELECT on this database and nothing else */
  reader: { user: string; password: string; url: string };
  /** another login of the same server, granted what `grants` say (each `?` the database), for access tests */
  createUser(prefix: string, grants: readonly string[]): Promise<{ user: string; account: string; url: string }>;
  close(): Promise<void>;
}

export async function createShopDatabase(name: string): Promise<ShopDatabase> {
  const suffix = randomBytes(3).toString('hex');
  const database = `shop_${name.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${suffix}`;
  const admin = await mysqlAdmin();
  await admin.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci`);
  await admin.query(`USE \`${database}\``);
  const users: string[] = [];
  const port = new URL(mariaDbAdminUrl()).port;
  const createUser = async (prefix: string, grants: readonly string[]) => {
    const user = `${prefix}_${randomBytes(3).toString('hex')}`;
    const password = `pw-${randomBytes(6).toString('hex')}`;
    await admin.query(`CREATE USER ?@'%' IDENTIFIED BY ?`, [user, password]);
    users.push(user);
    for (const grant of grants) await admin.query(grant.replaceAll('?', `\`${database}\``).replaceAll('{user}', `'${user}'@'%'`));
    return { user, account: `\`${user}\`@\`%\``, url: `mysql://${user}:${password}@127.0.0.1:${port}/${database}` };
  };
  const reader = await createUser('tpi_r', ['GRANT SELECT ON ?.* TO {user}']);
  return {
    database,
    admin,
    reader: { user: reader.user, password: '', url: reader.url },
    createUser,
    async close() {
      for (const user of users) await admin.query(`DROP USER IF EXISTS ?@'%'`, [user]).catch(() => undefined);
      await admin.query(`DROP DATABASE IF EXISTS \`${database}\``).catch(() => undefined);
      await admin.end();
    },
  };
}

/** A table of the harness's order columns (see harness.ts's createOrdersTable), in MySQL types. */
export async function createMySqlOrders(shop: ShopDatabase, table: string, rows: Record<string, unknown>[]): Promise<void> {
  await shop.admin.query(
    `CREATE TABLE \`${table}\` (order_id VARCHAR(64) PRIMARY KEY, customer_name VARCHAR(200), customer_email VARCHAR(200), locale VARCHAR(10), sku VARCHAR(40), created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6))`,
  );
  await insertRows(shop, table, rows);
}

export async function insertRows(shop: ShopDatabase, table: string, rows: readonly Record<string, unknown>[]): Promise<void> {
  for (const row of rows) {
    const values = Object.fromEntries(Object.entries(row).map(([key, value]) => [key, value instanceof Date ? value.toISOString().replace('T', ' ').replace('Z', '') : value]));
    await shop.admin.query(`INSERT INTO \`${table}\` SET ?`, [values]);
  }
}

/** A sink that keeps what a scan streams (COPY text), as its lines. */
export function collector(): { sink: Writable; lines: () => string[] } {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  return { sink, lines: () => Buffer.concat(chunks).toString('utf8').split('\n').filter((line) => line !== '') };
}
