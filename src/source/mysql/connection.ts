import { Transform, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ReadStopped } from '../errors.ts';
import type { ReadLimits, ReadProgress } from '../types.ts';
import { mysqlDriver, type MySqlConnection, type MySqlConnectOptions, type MySqlField } from './driver.ts';
import { inspectAccess, MySqlAccessRefused } from './access.ts';
import { quoteString, textOf } from './sql.ts';

/** How long connecting may take before the read fails (and is retried). */
const CONNECT_TIMEOUT_MS = 15_000;
/** A server that has not answered by its statement timeout plus this is treated as gone. */
const DEFAULT_CLIENT_MARGIN_MS = 10_000;
const CLOSE_TIMEOUT_MS = 2_000;
/** Rows reach the sink this many characters of COPY text at a time. */
const CHUNK_CHARS = 64 * 1024;
/** The largest value of an unsigned 64-bit variable: "no limit". */
const NO_LIMIT = '18446744073709551615';

/**
 * What shapes how the product's SQL is parsed and how values turn into text, set by every read
 * whatever the server, the user's `init_connect` or the driver left: no NO_BACKSLASH_ESCAPES
 * (sql.ts escapes strings with backslashes), no ANSI_QUOTES or PIPES_AS_CONCAT, no
 * PAD_CHAR_TO_FULL_LENGTH (CHAR keys keep their text); ONLY_FULL_GROUP_BY left out, so that a
 * query written for either server's default runs.
 */
export const PINNED_SQL_MODE = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION';

export type Flavor = 'mariadb' | 'mysql';

export interface ServerInfo {
  flavor: Flavor;
  version: string;
  /** CURRENT_USER(): the account the server matched, `user@host` */
  account: string;
  /** the role the session started with (MariaDB's default role), or undefined */
  role: string | undefined;
}

/** The read gave up on a server that stopped answering past its statement timeout. */
export class MySqlReadTimeout extends ReadStopped {
  override readonly name = 'MySqlReadTimeout';
  constructor(readonly waitedMs: number) {
    super(
      `the warehouse did not answer a statement within ${Math.round(waitedMs / 1000)}s, its statement timeout plus a margin: the read was abandoned (a stopped server or a cut network); check the warehouse server`,
      'transient',
    );
  }
}

export interface MySqlSession {
  readonly server: ServerInfo;
  query<Row extends object = Record<string, unknown>>(sql: string): Promise<{ rows: Row[]; fields: MySqlField[] }>;
  queryArrays(sql: string): Promise<{ rows: unknown[][]; fields: MySqlField[] }>;
  /** Streams a result row by row into `sink` as COPY text (`toLine` turns a row into its line, or skips it), with bounded memory. */
  stream(sql: string, toLine: (row: unknown[]) => string | undefined, sink: Writable): Promise<void>;
}

/** The connection options of a `mysql://` or `mariadb://` URL; `?ssl=true` asks for TLS with a verified certificate. */
export function connectOptionsOf(url: string): MySqlConnectOptions {
  const parsed = new URL(url);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  const ssl = parsed.searchParams.get('ssl')?.toLowerCase();
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port === '' ? 3306 : Number(parsed.port),
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    ...(database === '' ? {} : { database }),
    ...(ssl === 'true' || ssl === 'required' ? { ssl: {} } : {}),
    multipleStatements: false,
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    timezone: 'Z',
    charset: 'UTF8MB4_UNICODE_CI',
    connectTimeout: CONNECT_TIMEOUT_MS,
    flags: ['-LOCAL_FILES', '-MULTI_STATEMENTS'],
    enableKeepAlive: true,
    connectAttributes: { program_name: 'trustpilot-invitations segment reader' },
  };
}

/** The session settings every read pins, for its flavour and statement timeout. */
export function sessionSettingsSql(flavor: Flavor, timeoutMs: number): string {
  const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
  const timeout = flavor === 'mariadb' ? `SESSION max_statement_time = ${(timeoutMs / 1000).toFixed(3)}` : `SESSION max_execution_time = ${Math.round(timeoutMs)}`;
  return [
    `SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci`,
    `SESSION sql_mode = ${quoteString(PINNED_SQL_MODE)}`,
    `SESSION time_zone = '+00:00'`,
    timeout,
    `SESSION lock_wait_timeout = ${seconds}`,
    `SESSION innodb_lock_wait_timeout = ${seconds}`,
    // A paused stream (the app database busy) must not make the server give up first.
    `SESSION net_write_timeout = ${seconds + 60}`,
    `SESSION sql_select_limit = ${NO_LIMIT}`,
    `SESSION max_join_size = ${NO_LIMIT}`,
    `SESSION sql_big_selects = 1`,
    `SESSION sql_auto_is_null = 0`,
    `SESSION lc_time_names = 'en_US'`,
  ].join(', ');
}

/** A client-side deadline per statement: only the server enforces its own timeout, and a silent one would wait forever. */
class Deadline {
  expired = false;

  constructor(
    private readonly connection: MySqlConnection,
    readonly limitMs: number,
    private readonly report: (waiting: boolean) => void,
  ) {}

  async run<T>(statement: () => Promise<T>, stream?: Readable): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const expiry = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.expired = true;
        const error = new MySqlReadTimeout(this.limitMs);
        stream?.destroy(error);
        this.connection.destroy();
        reject(error);
      }, this.limitMs);
    });
    this.report(true);
    try {
      return await Promise.race([statement(), expiry]);
    } finally {
      clearTimeout(timer);
      this.report(false);
    }
  }
}

async function close(connection: MySqlConnection): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const patience = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
  });
  await Promise.race([connection.end().catch(() => undefined), patience]);
  clearTimeout(timer);
  connection.destroy();
}

/**
 * A MySQL or MariaDB warehouse, read as a least-privilege user. Every read opens a connection of
 * its own (closed afterwards: nothing a segment leaves in its session, a user variable or a
 * GET_LOCK, survives into the next read), pins its session settings, checks the user's grants,
 * and reads in a READ ONLY transaction that is rolled back.
 */
export class MySqlWarehouse {
  private readonly clientMarginMs: number;

  constructor(
    readonly url: string,
    options: { clientMarginMs?: number } = {},
  ) {
    this.clientMarginMs = options.clientMarginMs ?? DEFAULT_CLIENT_MARGIN_MS;
  }

  /** The user this warehouse connects as, as its URL names it. */
  get user(): string | undefined {
    try {
      const user = new URL(this.url).username;
      return user ? decodeURIComponent(user) : undefined;
    } catch {
      return undefined;
    }
  }

  get database(): string | undefined {
    try {
      return connectOptionsOf(this.url).database;
    } catch {
      return undefined;
    }
  }

  async read<T>(
    limits: ReadLimits,
    work: (session: MySqlSession) => Promise<T>,
    options: { onProgress?: (progress: ReadProgress) => void; checkAccess?: boolean } = {},
  ): Promise<T> {
    const timeoutMs = Math.max(1_000, Math.round(limits.statementTimeoutMs));
    const progress: ReadProgress = { bytes: 0, lastActivityAt: Date.now(), waiting: false };
    const report = (waiting: boolean) => {
      progress.waiting = waiting;
      progress.lastActivityAt = Date.now();
      options.onProgress?.(progress);
    };
    const driver = await mysqlDriver();
    report(true);
    const connection = await driver.createConnection(connectOptionsOf(this.url));
    // A server going away mid-read is reported by the statement that was running.
    connection.connection.on('error', () => undefined);
    const deadline = new Deadline(connection, timeoutMs + this.clientMarginMs, report);
    let finished = false;
    try {
      const run = async (sql: string, rowsAsArray = false) => await deadline.run(() => connection.query({ sql, rowsAsArray }));
      const [info] = (await run(`SELECT VERSION() AS version, CURRENT_USER() AS account, CURRENT_ROLE() AS role`)) as [Record<string, unknown>[], unknown];
      const first = info[0] ?? {};
      const version = textOf(first.version) ?? '';
      const role = typeof first.role === 'string' && first.role !== '' && first.role.toUpperCase() !== 'NONE' ? first.role : undefined;
      const server: ServerInfo = { flavor: /mariadb/i.test(version) ? 'mariadb' : 'mysql', version, account: textOf(first.account) ?? '', role };
      await run(sessionSettingsSql(server.flavor, timeoutMs));
      await run(`SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY`);
      const session: MySqlSession = {
        server,
        query: async <Row extends object>(sql: string) => {
          const [rows, fields] = await run(sql);
          return { rows: rows as Row[], fields: fields ?? [] };
        },
        queryArrays: async (sql) => {
          const [rows, fields] = await run(sql, true);
          return { rows: rows as unknown[][], fields: fields ?? [] };
        },
        stream: async (sql, toLine, sink) => {
          const rows = connection.connection.query({ sql, rowsAsArray: true }).stream({ highWaterMark: 512 });
          let pending = '';
          const emit = (push: (chunk: Buffer) => void) => {
            const chunk = Buffer.from(pending, 'utf8');
            pending = '';
            progress.bytes += chunk.length;
            report(true);
            push(chunk);
          };
          const lines = new Transform({
            writableObjectMode: true,
            transform(row: unknown[], _encoding, callback) {
              const line = toLine(row);
              if (line !== undefined) pending += line;
              if (pending.length >= CHUNK_CHARS) emit((chunk) => callback(null, chunk));
              else callback();
            },
            flush(callback) {
              if (pending.length > 0) emit((chunk) => callback(null, chunk));
              else callback();
            },
          });
          // The sink (a COPY into the app database) is ended with a fixed reason: the server's
          // message may quote a row's value.
          rows.once('error', () => sink.destroy(new Error('the segment could not be read')));
          await deadline.run(() => pipeline(rows, lines, sink), rows);
        },
      };
      if (options.checkAccess !== false) {
        const report = await inspectAccess(session);
        if (report.problems.length > 0) throw new MySqlAccessRefused(report);
      }
      await run(`START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY`);
      const result = await work(session);
      await run('ROLLBACK');
      finished = true;
      return result;
    } catch (error) {
      throw deadline.expired ? new MySqlReadTimeout(deadline.limitMs) : error;
    } finally {
      // A read that failed part-way (a stream cut short) may still have rows in flight: the
      // connection is dropped, which also ends its transaction, rather than drained.
      if (finished) await close(connection);
      else connection.destroy();
    }
  }
}
