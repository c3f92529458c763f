import pg from 'pg';

/** Limits that every segment read runs under; the statement timeout is the activation's own. */
export interface ReadLimits {
  statementTimeoutMs: number;
}

/** How long connecting to the warehouse may take before the read fails (and is retried). */
const CONNECT_TIMEOUT_MS = 15_000;

/**
 * The marketer's warehouse, read through the least-privilege reader role.
 *
 * Every read opens a connection of its own and closes it afterwards, so nothing a segment's SQL
 * does to its session (set_config, a temporary object, an advisory lock) survives into the next
 * read, and one activation's query can never change what another one sees. Each connection starts
 * read-only, in UTC, with the statement and idle timeouts set at connection time, and every read
 * runs inside a READ ONLY transaction.
 */
export class Warehouse {
  constructor(
    readonly url: string,
    private readonly applicationName = 'trustpilot-invitations segment reader',
  ) {}

  async read<T>(limits: ReadLimits, work: (client: pg.Client) => Promise<T>): Promise<T> {
    const timeout = Math.max(1, Math.round(limits.statementTimeoutMs));
    const client = new pg.Client({
      connectionString: this.url,
      application_name: this.applicationName,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      options: [
        `-c statement_timeout=${timeout}`,
        `-c lock_timeout=${timeout}`,
        `-c idle_in_transaction_session_timeout=${timeout + 60_000}`,
        '-c default_transaction_read_only=on',
        '-c TimeZone=UTC',
      ].join(' '),
    });
    // A server going away mid-read is reported by the query that was running; do not crash on the event.
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('begin transaction isolation level repeatable read, read only');
      const result = await work(client);
      await client.query('commit');
      return result;
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}
