import type { Readable } from 'node:stream';

/**
 * The few parts of mysql2 this engine uses, loaded on first use: a process that never reads a
 * MySQL warehouse never loads the driver.
 */

/** A column as the server describes it in a result set. */
export interface MySqlField {
  name: string;
  /** the protocol's type code (MYSQL_TYPE_*) */
  columnType: number;
  flags: number;
  columnLength: number;
  /** 63 is `binary`: BINARY, VARBINARY and BLOB columns */
  characterSet: number;
  decimals: number;
  /** MariaDB's extended metadata: `uuid`, `inet6`, … */
  extendedTypeName?: string;
  /** MariaDB's extended metadata: `json` */
  extendedFormat?: string;
}

/** The callback connection under the promise one: the only way to stream a result row by row. */
export interface CoreConnection {
  query(options: { sql: string; rowsAsArray?: boolean }): { stream(options?: { highWaterMark?: number }): Readable };
  destroy(): void;
  on(event: 'error', listener: (error: Error) => void): void;
}

export interface MySqlConnection {
  query(options: { sql: string; rowsAsArray?: boolean }): Promise<[unknown, MySqlField[] | undefined]>;
  end(): Promise<void>;
  destroy(): void;
  readonly connection: CoreConnection;
}

export interface MySqlConnectOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  database?: string;
  ssl?: Record<string, unknown>;
  /** A segment's text reaches the server as one statement, or is refused by its parser. */
  multipleStatements: false;
  /** BIGINT and DECIMAL values as text: never through a JavaScript number. */
  supportBigNumbers: true;
  bigNumberStrings: true;
  /** DATE, DATETIME and TIMESTAMP values as the server prints them (in the session's UTC) */
  dateStrings: true;
  timezone: 'Z';
  charset: string;
  connectTimeout: number;
  /** `-LOCAL_FILES`: the server may never ask the worker for one of its files (LOAD DATA LOCAL). */
  flags: string[];
  enableKeepAlive: boolean;
  connectAttributes: Record<string, string>;
}

interface MySqlModule {
  createConnection(options: MySqlConnectOptions): Promise<MySqlConnection>;
}

let loading: Promise<MySqlModule> | undefined;

export async function mysqlDriver(): Promise<MySqlModule> {
  loading ??= import('mysql2/promise').then((module) => {
    const driver = (module as unknown as { default?: MySqlModule }).default ?? (module as unknown as MySqlModule);
    return { createConnection: (options) => driver.createConnection(options) };
  });
  return await loading;
}
