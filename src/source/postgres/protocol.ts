import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { ReadStopped } from '../errors.ts';

/** How long a polite goodbye may take before the socket is simply closed. */
const CLOSE_TIMEOUT_MS = 2_000;


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

/** The protocol-level pieces of a read: a client-side deadline, the COPY pipe, a Parse without execution. */

/**
 * A client-side deadline for each statement: a server that stops answering (its backend stopped,
 * the network cut without a reset) would otherwise keep the read waiting forever, since only the
 * server enforces statement_timeout.
 */
export class StatementDeadline {
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

export function socketOf(client: pg.Client): { destroy(error?: Error): void } | undefined {
  const connection = (client as unknown as { connection?: { stream?: { destroy(error?: Error): void } } }).connection;
  return connection?.stream;
}

export async function closeClient(client: pg.Client): Promise<void> {
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
export async function copyInto(client: pg.Client, text: string, sink: Writable, onBytes: (bytes: number) => void): Promise<void> {
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
export class ParseOnly {
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
