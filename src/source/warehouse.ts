import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { ReadStopped } from './errors.ts';
import { inspectReaderRole, ReaderRoleError } from './reader-role.ts';

/** Limits that every segment read runs under; the statement timeout is the activation's own. */
export interface ReadLimits {
  statementTimeoutMs: number;
}

/** What a read reports while it works, so a caller can prove progress (heartbeats). */
export interface ReadProgress {
  /** bytes received from the warehouse by this read so far */
  bytes: number;
  /** epoch ms of the last sign of life: a statement sent, data received, a statement done */
  lastActivityAt: number;
  /** a statement is waiting for the warehouse */
  waiting: boolean;
}

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
/** How long a polite goodbye may take before the socket is simply closed. */
const CLOSE_TIMEOUT_MS = 2_000;

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

/**
 * The read gave up on a server that stopped answering, which its statement timeout should have
 * prevented: a stopped backend or a network cut without a reset. Another attempt may find a
 * working server, so it is transient.
 */
export class WarehouseReadTimeout extends ReadStopped {
  override readonly name = 'WarehouseReadTimeout';
  constructor(readonly waitedMs: number) {
    super(
      `the warehouse did not answer a statement within ${Math.round(waitedMs / 1000)}s, its statement timeout plus a margin: the read was abandoned (a stopped server process or a cut network); check the warehouse server`,
      'transient',
    );
  }
}

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
export class Warehouse {
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

/**
 * A client-side deadline for each statement: a server that stops answering (its backend stopped,
 * the network cut without a reset) would otherwise keep the read waiting forever, since only the
 * server enforces statement_timeout.
 */
class StatementDeadline {
  expired = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly client: pg.Client,
    readonly limitMs: number,
    private readonly report: (waiting: boolean) => void,
  ) {}

  async run<T>(statement: () => Promise<T>): Promise<T> {
    this.clear();
    this.timer = setTimeout(() => {
      this.expired = true;
      socketOf(this.client)?.destroy(new WarehouseReadTimeout(this.limitMs));
    }, this.limitMs);
    this.report(true);
    try {
      return await statement();
    } finally {
      this.clear();
      this.report(false);
    }
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

function socketOf(client: pg.Client): { destroy(error?: Error): void } | undefined {
  const connection = (client as unknown as { connection?: { stream?: { destroy(error?: Error): void } } }).connection;
  return connection?.stream;
}

async function closeClient(client: pg.Client): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const patience = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
  });
  await Promise.race([client.end().catch(() => undefined), patience]);
  clearTimeout(timer);
  socketOf(client)?.destroy();
}

/**
 * Pipes a COPY out of the warehouse into `sink`. When the warehouse fails, the sink (a COPY into
 * the app database) is aborted with a fixed reason first: the warehouse's own message may quote a
 * row's value and would otherwise travel to the app database's server log.
 */
async function copyInto(client: pg.Client, text: string, sink: Writable, onBytes: (bytes: number) => void): Promise<void> {
  const source = client.query(copyTo(text));
  source.on('data', (chunk: Buffer) => onBytes(chunk.length));
  source.once('error', () => sink.destroy(new Error('the segment could not be read')));
  await pipeline(source, sink);
}

/**
 * Asks the server to parse a statement through the extended protocol without running it: Parse
 * refuses a text that holds more than one statement, by the server's own lexer and grammar, with
 * the session's settings. Nothing is planned or executed.
 */
class ParseOnly {
  readonly done: Promise<void>;
  private resolve!: () => void;
  private reject!: (error: unknown) => void;
  private failed = false;

  constructor(private readonly text: string) {
    this.done = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  submit(connection: pg.Connection): void {
    const protocol = connection as unknown as { parse(query: { text: string; types: number[] }): void; sync(): void };
    protocol.parse({ text: this.text, types: [] });
    protocol.sync();
  }

  handleError(error: unknown): void {
    this.failed = true;
    this.reject(error);
  }

  handleReadyForQuery(): void {
    if (!this.failed) this.resolve();
  }

  // Parse and Sync answer with ParseComplete and ReadyForQuery only; anything else is ignored.
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleCommandComplete(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyInResponse(): void {}
  handleCopyData(): void {}
}
