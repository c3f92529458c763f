import type { DuckDBConnection } from '@duckdb/node-api';
import type { FilesRoot } from './location.ts';
import { literal } from './sql.ts';

/**
 * A segment's query names its files relative to the warehouse's root (`read_parquet('exports/
 * *.parquet')`). DuckDB refuses every relative path once external access is locked to the root,
 * so each relative path given to a file-reading function is rewritten to the root's absolute one
 * before the query is prepared. DuckDB's own parser finds them (`json_serialize_sql`, which gives
 * every constant's byte offset in the text), and a literal is replaced only where the text at that
 * offset is exactly that string constant; everything else is left as written. This is a
 * convenience, not the boundary: whatever path the query ends up with, DuckDB checks it against
 * the root.
 */

const FILE_READERS = new Set([
  'read_csv', 'read_csv_auto', 'sniff_csv', 'read_parquet', 'parquet_scan', 'parquet_metadata', 'parquet_schema',
  'parquet_file_metadata', 'parquet_kv_metadata', 'read_json', 'read_json_auto', 'read_ndjson', 'read_ndjson_auto',
  'read_json_objects', 'read_text', 'read_blob', 'glob',
]);

interface Constant {
  location: number;
  value: string;
}

type Node = Record<string, unknown>;

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null;
}

function varcharConstant(node: unknown): Constant | undefined {
  if (!isNode(node) || node.class !== 'CONSTANT' || typeof node.query_location !== 'number') return undefined;
  const value = node.value;
  if (!isNode(value) || value.is_null !== false || typeof value.value !== 'string') return undefined;
  const type = value.type;
  return isNode(type) && type.id === 'VARCHAR' ? { location: node.query_location, value: value.value } : undefined;
}

/** The path constants given as the first argument of a file-reading table function, anywhere in the tree. */
function pathConstants(tree: unknown, found: Constant[] = []): Constant[] {
  if (Array.isArray(tree)) {
    for (const item of tree) pathConstants(item, found);
    return found;
  }
  if (!isNode(tree)) return found;
  const fn = tree.type === 'TABLE_FUNCTION' && isNode(tree.function) ? tree.function : undefined;
  if (fn && typeof fn.function_name === 'string' && FILE_READERS.has(fn.function_name.toLowerCase()) && Array.isArray(fn.children)) {
    const [first] = fn.children as unknown[];
    const direct = varcharConstant(first);
    if (direct) found.push(direct);
    else if (isNode(first) && first.function_name === 'list_value' && Array.isArray(first.children)) {
      for (const item of first.children as unknown[]) {
        const constant = varcharConstant(item);
        if (constant) found.push(constant);
      }
    }
  }
  for (const value of Object.values(tree)) pathConstants(value, found);
  return found;
}

const QUOTE = 0x27;

/** The string literal starting at (or just after a `[`, `,` or spaces from) `offset`, when it spells exactly `value`. */
function literalAt(text: Buffer, offset: number, value: string): { start: number; end: number } | undefined {
  let start = offset;
  while (start < text.length && (text[start] === 0x5b || text[start] === 0x20 || text[start] === 0x0a || text[start] === 0x09 || text[start] === 0x0d)) start += 1;
  if (text[start] !== QUOTE) return undefined;
  let index = start + 1;
  for (;;) {
    const quote = text.indexOf(QUOTE, index);
    if (quote === -1) return undefined;
    if (text[quote + 1] === QUOTE) {
      index = quote + 2;
      continue;
    }
    const body = text.subarray(start + 1, quote).toString('utf8').replaceAll("''", "'");
    return body === value ? { start, end: quote + 1 } : undefined;
  }
}

function isRelative(path: string): boolean {
  return !path.startsWith('/') && !/^[a-z][a-z0-9+.-]*:/i.test(path) && !path.startsWith('~');
}

/** `sql` with every relative file path made absolute under the root (or unchanged when DuckDB cannot parse it: preparing it then says why). */
export async function rootedQuery(connection: DuckDBConnection, root: FilesRoot, sql: string): Promise<string> {
  const prepared = await connection.prepare('SELECT json_serialize_sql($1::VARCHAR)');
  let serialized: string;
  try {
    prepared.bind([sql]);
    const reader = await prepared.runAndReadAll();
    serialized = String(reader.getRows()[0]?.[0] ?? '');
  } finally {
    prepared.destroySync();
  }
  const tree = JSON.parse(serialized) as { error?: boolean; statements?: unknown[] };
  if (tree.error !== false || tree.statements?.length !== 1) return sql;
  const text = Buffer.from(sql, 'utf8');
  const edits = pathConstants(tree.statements)
    .filter((constant) => isRelative(constant.value))
    .map((constant) => ({ constant, at: literalAt(text, constant.location, constant.value) }))
    .filter((edit): edit is { constant: Constant; at: { start: number; end: number } } => edit.at !== undefined)
    .sort((a, b) => b.at.start - a.at.start);
  let result = text;
  let last = Number.POSITIVE_INFINITY;
  for (const { constant, at } of edits) {
    // Two constants at one place (a list and its first item) are one literal: replaced once.
    if (at.end > last) continue;
    const replacement = Buffer.from(literal(`${root.uri}${constant.value.replace(/^(\.\/)+/, '')}`), 'utf8');
    result = Buffer.concat([result.subarray(0, at.start), replacement, result.subarray(at.end)]);
    last = at.start;
  }
  return result.toString('utf8');
}
