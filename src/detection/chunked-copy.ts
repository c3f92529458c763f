import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { ReadStopped } from '../source/errors.ts';

/** Rows are handed to the app database this many bytes at a time (about 150,000 keys). */
const CHUNK_BYTES = 4 * 1024 * 1024;
const NEWLINE = 0x0a;

/** The segment sent more than the scan may hold. */
export class ScanTooLargeError extends ReadStopped {
  override readonly name = 'ScanTooLargeError';
  constructor(readonly maxBytes: number) {
    super(
      `the segment's keys take more than ${maxBytes} bytes in its scan range (SCAN_MAX_BYTES): narrow it with a cursor or a shorter key, or raise SCAN_MAX_BYTES`,
      'permanent',
    );
  }
}

/**
 * Loads COPY text rows into a table of the app database, a chunk of whole rows at a time, each in
 * a COPY statement of its own. The app session is busy only while a chunk that has fully arrived
 * is written: it never holds a statement (and so a snapshot that keeps VACUUM from cleaning the
 * ledger) open while it waits for a slow warehouse. One chunk is written while the next arrives;
 * the warehouse is asked to wait only when both are full.
 *
 * COPY's text format ends every row with a newline and escapes newlines inside values, so a chunk
 * cut after its last newline holds whole rows.
 */
export class ChunkedCopyIn extends Writable {
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private received = 0;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: pg.ClientBase,
    private readonly copyStatement: string,
    private readonly maxBytes: number,
  ) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.received += chunk.length;
    if (this.received > this.maxBytes) {
      callback(new ScanTooLargeError(this.maxBytes));
      return;
    }
    this.buffered.push(chunk);
    this.bufferedBytes += chunk.length;
    if (this.bufferedBytes < CHUNK_BYTES) {
      callback();
      return;
    }
    const whole = this.takeWholeRows();
    // The previous chunk must be written before this one starts; the stream waits meanwhile only
    // if that write is still going, which is the backpressure the warehouse sees.
    const previous = this.flushing;
    this.flushing = previous.then(() => this.load(whole));
    // Handled here so that a failed write is not an unhandled rejection; the next write or the
    // end of the stream reports it.
    this.flushing.catch(() => undefined);
    previous.then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    const rest = Buffer.concat(this.buffered);
    this.buffered = [];
    this.bufferedBytes = 0;
    this.flushing
      .then(() => (rest.length > 0 ? this.load(rest) : undefined))
      .then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // A chunk being written finishes (or fails) on its own; nothing more is started.
    this.buffered = [];
    this.flushing.then(
      () => callback(error),
      () => callback(error),
    );
  }

  private takeWholeRows(): Buffer {
    const all = Buffer.concat(this.buffered, this.bufferedBytes);
    const end = all.lastIndexOf(NEWLINE) + 1;
    const rest = all.subarray(end);
    this.buffered = rest.length > 0 ? [Buffer.from(rest)] : [];
    this.bufferedBytes = rest.length;
    return all.subarray(0, end);
  }

  private async load(rows: Buffer): Promise<void> {
    if (rows.length === 0) return;
    await pipeline(Readable.from([rows]), this.client.query(copyFrom(this.copyStatement)));
  }
}
