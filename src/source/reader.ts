import { sql, type Kysely, type RawBuilder } from 'kysely';
import { toKeyValue, type KeyValue } from './row-key.ts';

/** The source's primary key does not identify its rows as configured. */
export class SourceKeyError extends Error {
  override readonly name = 'SourceKeyError';
}

export type SourceRef =
  | { kind: 'table' | 'view'; schema: string; name: string }
  | { kind: 'query'; sql: string };

export interface SourcePageRequest {
  source: SourceRef;
  primaryKey: readonly string[];
  /** Rows whose primary key sorts at or after this tuple; null for the first page. */
  after: readonly KeyValue[] | null;
  /** Narrows the scan to rows whose cursor column is at or after `since` (already minus the look-back). */
  cursor?: { column: string; since: string | null };
  limit: number;
}

export interface SourcePage {
  rows: Record<string, unknown>[];
  /** rows of the page whose key equals `after` (at least one of them was read by the previous page) */
  repeatedAfterKey: number;
  /** rows of this page whose key equals `nextAfter`; the next page reads them again */
  rowsAtNextAfter: number;
  /** key tuple to resume from, or null when the source is exhausted */
  nextAfter: KeyValue[] | null;
}

// The warehouse is typed by the marketer's schema, not ours.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type WarehouseDb = Kysely<any>;

function sourceExpression(source: SourceRef): RawBuilder<unknown> {
  if (source.kind === 'query') {
    // The model's SQL is the marketer's own read-only query; it runs inside a READ ONLY transaction.
    return sql`(${sql.raw(source.sql)})`;
  }
  return sql`${sql.table(`${source.schema}.${source.name}`)}`;
}

function keyTuple(primaryKey: readonly string[]): RawBuilder<unknown> {
  return sql`(${sql.join(primaryKey.map((column) => sql.ref(`src.${column}`)))})`;
}

function keysEqual(row: Record<string, unknown>, primaryKey: readonly string[], key: readonly KeyValue[]): boolean {
  return primaryKey.every((column, index) => toKeyValue(row[column]) === key[index]);
}

/**
 * Reads one page of the source in primary-key order (keyset pagination), so that a segment of
 * any size is streamed, never loaded whole. The page starts AT the previous page's last key
 * (>=, not >) so that duplicate keys straddling a page boundary are seen and counted.
 */
export async function readSourcePage(db: WarehouseDb, request: SourcePageRequest): Promise<SourcePage> {
  const { primaryKey, after, cursor, limit } = request;
  const conditions: RawBuilder<unknown>[] = [];
  if (after) conditions.push(sql`${keyTuple(primaryKey)} >= (${sql.join(after.map((value) => sql`${value}`))})`);
  // A row without a cursor value cannot be placed in time: it is always scanned, never skipped.
  if (cursor?.since) {
    const column = sql.ref(`src.${cursor.column}`);
    conditions.push(sql`(${column} >= ${cursor.since} or ${column} is null)`);
  }
  const where = conditions.length > 0 ? sql`where ${sql.join(conditions, sql` and `)}` : sql``;
  const orderBy = sql.join(primaryKey.map((column) => sql`${sql.ref(`src.${column}`)} asc`));

  const rows = await db.transaction().execute(async (trx) => {
    await sql`set transaction read only`.execute(trx);
    const result = await sql<Record<string, unknown>>`
      select src.* from ${sourceExpression(request.source)} as src
      ${where}
      order by ${orderBy}
      limit ${limit + 1}
    `.execute(trx);
    return result.rows;
  });

  const hasMore = rows.length > limit;
  const pageRows = hasMore ? rows.slice(0, limit) : rows;
  let repeatedAfterKey = 0;
  let fresh = pageRows;
  if (after) {
    fresh = pageRows.filter((row) => !keysEqual(row, primaryKey, after));
    repeatedAfterKey = pageRows.length - fresh.length;
  }
  const last = pageRows.at(-1);
  let nextAfter: KeyValue[] | null = hasMore && last ? primaryKey.map((column) => toKeyValue(last[column])) : null;
  // A full page of one repeated key would never advance with >=; skip past that key instead.
  if (nextAfter && after && fresh.length === 0) {
    throw new SourceKeyError(
      `more than ${limit} rows share one primary key value; the primary key columns (${primaryKey.join(', ')}) do not identify rows`,
    );
  }
  if (!hasMore) nextAfter = null;
  const rowsAtNextAfter = nextAfter ? pageRows.filter((row) => keysEqual(row, primaryKey, nextAfter)).length : 0;
  return { rows: fresh, repeatedAfterKey, rowsAtNextAfter, nextAfter };
}
