import type { Writable } from 'node:stream';
import pg from 'pg';
import type { ReadLimits, ReadProgress } from '../types.ts';
import { closeClient, copyInto, ParseOnly, StatementDeadline, WarehouseReadTimeout } from './protocol.ts';

export { WarehouseReadTimeout } from './protocol.ts';
import { inspectReaderRole, ReaderRoleError } from './reader-role.ts';

export interface WarehouseOptions {
  applicationName?: string;
  /** the app database's own role: a warehouse role that is it, or can become it, is refused */
  appRole?: string;
  /** how long past the statement timeout the client waits for a silent server before abandoning the read */
  clientMarginMs?: number;
}

/** How long connecting to the warehouse may take before the read fails (and is retried). */
const CONNECT_TIMEOUT_MS = 15_000;
/** A server that has not answered by its statement timeout plus this is treated as gone. */
const DEFAULT_CLIENT_MARGIN_MS = 10_000;

/**
 * Settings that decide how the product's own SQL is lexed and how values turn into text. A role
 * or database can carry its own values for any of them (`ALTER ROLE … SET DateStyle`), so every
 * read sets them itself, inside its transaction, whatever the session started with.
 */
const PINNED_SETTINGS: readonly (readonly [string, string])[] = [
  // The session's role: a role-level `SET role` must not make the read run as another role.
  ['role', 'none'],
  ['standard_conforming_strings', 'on'],
  ['backslash_quote', 'safe_encoding'],
  ['search_path', '"$user", public'],
  ['TimeZone', 'UTC'],
  ['DateStyle', 'ISO, MDY'],
  ['IntervalStyle', 'postgres'],
  ['timezone_abbreviations', 'Default'],
  ['extra_float_digits', '1'],
  ['bytea_output', 'hex'],
  ['client_encoding', 'UTF8'],
  ['lc_monetary', 'C'],
  ['lc_numeric', 'C'],
  ['array_nulls', 'on'],
  ['transform_null_equals', 'off'],
  ['row_security', 'on'],
  ['xmloption', 'content'],
];


/** A query as kysely compiles it (or plain text with its parameters). */
export interface Statement {
  sql: string;
  parameters: readonly unknown[];
}

/**
 * A read's view of its connection: statements go through the extended protocol, which carries
 * exactly one statement, and every statement has a client-side deadline.
 */
export interface WarehouseSession {
  query<Row extends object>(statement: Statement): Promise<pg.QueryResult<Row>>;
  /**
   * Streams `copy (<select>) to stdout` into `sink`. The select is first parsed by the server
   * through the extended protocol, which refuses more than one statement; only then is the COPY,
   * which has to go through the simple protocol, sent with the very same text.
   */
  copyOut(select: string, sink: Writable): Promise<void>;
}

/**
 * The marketer's warehouse, read through the least-privilege reader role.
 *
 * Every read opens a connection of its own and closes it afterwards, so nothing a segment's SQL
 * does to its session survives into the next read. Each read runs in a READ ONLY transaction that
 * is rolled back, never committed, so nothing a segment does persists on any server version; it
 * pins the settings that shape what the product reads, checks before anything else that the role
 * can reach no more than reading, and gives up on a server that stops answering.
 */
export class PostgresWarehouse {
  private readonly applicationName: string;
  private readonly clientMarginMs: number;

  constructor(
    readonly url: string,
    private readonly options: WarehouseOptions = {},
  ) {
    this.applicationName = options.applicationName ?? 'trustpilot-invitations segment reader';
    this.clientMarginMs = options.clientMarginMs ?? DEFAULT_CLIENT_MARGIN_MS;
  }

  /** The app database's own role, which this warehouse's role must neither be nor reach. */
  get appRole(): string | undefined {
    return this.options.appRole;
  }

  /** The role this warehouse connects as, as written in its URL (for messages and grants). */
  get role(): string | undefined {
    try {
      const user = new URL(this.url).username;
      return user ? decodeURIComponent(user) : undefined;
    } catch {
      return undefined;
    }
  }

  async read<T>(
    limits: ReadLimits,
    work: (session: WarehouseSession) => Promise<T>,
    options: { onProgress?: (progress: ReadProgress) => void; checkRole?: boolean } = {},
  ): Promise<T> {
    const timeout = Math.max(1, Math.round(limits.statementTimeoutMs));
    const client = new pg.Client({
      connectionString: this.url,
      application_name: this.applicationName,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      // Also set inside the transaction (a pooler may drop startup options); here they already
      // bound the statements that run before it.
      options: [
        `-c statement_timeout=${timeout}`,
        `-c lock_timeout=${timeout}`,
        `-c idle_in_transaction_session_timeout=${timeout + 60_000}`,
        '-c default_transaction_read_only=on',
        '-c TimeZone=UTC',
      ].join(' '),
    });
    // A server going away mid-read is reported by the statement that was running; do not crash on the event.
    client.on('error', () => undefined);
    const progress: ReadProgress = { bytes: 0, lastActivityAt: Date.now(), waiting: false };
    const report = (waiting: boolean) => {
      progress.waiting = waiting;
      progress.lastActivityAt = Date.now();
      options.onProgress?.(progress);
    };
    const deadline = new StatementDeadline(client, timeout + this.clientMarginMs, report);
    try {
      await client.connect();
      await deadline.run(() =>
        client.query(
          [
            `begin transaction isolation level repeatable read, read only`,
            `set local statement_timeout = ${timeout}`,
            `set local lock_timeout = ${timeout}`,
            `set local idle_in_transaction_session_timeout = ${timeout + 60_000}`,
            // set_config reads a value as the configuration file would: a list stays a list.
            `select ${PINNED_SETTINGS.map(([name, value]) => `pg_catalog.set_config(${pg.escapeLiteral(name)}, ${pg.escapeLiteral(value)}, true)`).join(', ')}`,
          ].join('; '),
        ),
      );
      if (options.checkRole !== false) {
        const role = await deadline.run(() => inspectReaderRole(client, this.options.appRole === undefined ? {} : { appRole: this.options.appRole }));
        if (role.problems.length > 0) throw new ReaderRoleError(role.problems, role);
      }
      const session: WarehouseSession = {
        query: <Row extends object>(statement: Statement) => {
          // pg's extended protocol: Parse carries one statement; its typings do not list the option.
          const config: pg.QueryConfig & { queryMode: 'extended' } = { text: statement.sql, values: [...statement.parameters], queryMode: 'extended' };
          return deadline.run(() => client.query<Row>(config));
        },
        copyOut: async (select, sink) => {
          const text = `copy (${select}) to stdout`;
          await deadline.run(() => client.query(new ParseOnly(text)).done);
          await deadline.run(() =>
            copyInto(client, text, sink, (bytes) => {
              progress.bytes += bytes;
              report(true);
            }),
          );
        },
      };
      const result = await work(session);
      await deadline.run(() => client.query('rollback'));
      return result;
    } catch (error) {
      throw deadline.expired ? new WarehouseReadTimeout(deadline.limitMs) : error;
    } finally {
      deadline.clear();
      await closeClient(client);
    }
  }
}
