import { closest, distance } from 'fastest-levenshtein';
import type { ActivationConfig, ResolvedActivation } from '../domain/index.ts';
import { cursorColumnProblem, keyColumnProblem, type SourceColumn, type SourceRef, type SourceShape } from './types.ts';

export interface ColumnProblem {
  /** where in the activation's configuration, e.g. `mapping.consumerEmail` */
  path: string;
  message: string;
}

export type ShapeResult = { ok: true; shape: SourceShape } | { ok: false; problems: ColumnProblem[] };

export function sourceRefOf(activation: ActivationConfig): SourceRef {
  const { source } = activation;
  switch (source.kind) {
    case 'query':
      return { kind: 'query', sql: source.sql };
    case 'files':
      return { kind: 'files', format: source.format, path: source.path, ...(source.csv ? { csv: source.csv } : {}) };
    default:
      return { kind: source.kind, schema: source.schema, name: source.name };
  }
}

/** The warehouse an activation reads: the one it names, else `default` (WAREHOUSE_DATABASE_URL). */
export function warehouseOf(activation: ActivationConfig): string {
  return activation.source.warehouse ?? DEFAULT_WAREHOUSE;
}

export const DEFAULT_WAREHOUSE = 'default';

/** Source columns that feed invitation fields, ordered by field name so every process hashes them alike. */
export function mappedColumnsOf(resolved: ResolvedActivation): string[] {
  const entries = Object.entries(resolved.mapping)
    .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return [...new Set(entries.map(([, name]) => name))];
}

function suggestion(name: string, available: readonly string[]): string {
  if (available.length === 0) return '';
  const candidate = closest(name, [...available]);
  // Close enough to be a typo: a third of the name's length, at least 2 edits.
  const close = distance(name.toLowerCase(), candidate.toLowerCase()) <= Math.max(2, Math.floor(name.length / 3));
  return close ? `; did you mean '${candidate}'?` : `; the source has: ${available.slice(0, 12).join(', ')}${available.length > 12 ? ', …' : ''}`;
}

/**
 * Checks the activation against the columns its source really has: every key, cursor and mapped
 * column exists (with a suggestion for typos) and is of a usable type.
 */
export function shapeFor(activation: ActivationConfig, resolved: ResolvedActivation, columns: readonly SourceColumn[]): ShapeResult {
  const byName = new Map(columns.map((entry) => [entry.name, entry]));
  const names = columns.map((entry) => entry.name);
  const problems: ColumnProblem[] = [];
  const find = (path: string, name: string): SourceColumn | undefined => {
    const found = byName.get(name);
    if (!found) problems.push({ path, message: `column '${name}' is not in the source${suggestion(name, names)}` });
    return found;
  };

  const primaryKey: SourceColumn[] = [];
  activation.primaryKey.forEach((name, index) => {
    const found = find(activation.primaryKey.length === 1 ? 'primaryKey' : `primaryKey.${index}`, name);
    if (!found) return;
    const problem = keyColumnProblem(found);
    if (problem) problems.push({ path: 'primaryKey', message: problem });
    primaryKey.push(found);
  });

  let cursor: SourceColumn | undefined;
  if (activation.cursor) {
    cursor = find('cursor.column', activation.cursor.column);
    const problem = cursor ? cursorColumnProblem(cursor) : undefined;
    if (problem) problems.push({ path: 'cursor.column', message: problem });
  }

  for (const [field, name] of Object.entries(resolved.mapping)) {
    if (typeof name === 'string') find(`mapping.${field}`, name);
  }

  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    shape: { source: sourceRefOf(activation), primaryKey, mappedColumns: mappedColumnsOf(resolved), ...(cursor ? { cursor } : {}) },
  };
}
