import { parseDuration, type ActivationConfig, type ResolvedActivation } from '../domain/index.ts';
import { shapeFor, sourceRefOf, warehouseOf, type ColumnProblem } from './columns.ts';
import { errorContextFor } from './errors.ts';
import { isTableRef, type SegmentSource, type SourceColumn, type SourceRef } from './types.ts';

export interface SourceCheckOptions {
  /** the role segments are read as, when the warehouse URL does not name it */
  readerRole?: string;
  /** the file the activation comes from, for the `reader-sql` command to suggest */
  file?: string;
  /**
   * Columns already described, by source and timeout: activations reading the same table are
   * checked with one read, so a folder of thousands of them does not open thousands of connections.
   */
  columns?: Map<string, Promise<SourceColumn[]>>;
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A path as a shell word: quoted when it holds anything but plain path characters. */
function shellWord(text: string): string {
  return /^[\w./@%+:,-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}


/**
 * The advice for a source the reader may not read: the exact statements for a table or view,
 * and the command that prints every grant the activation's file needs.
 */
function grantAdvice(engine: SegmentSource, message: string, source: SourceRef, role: string | undefined, file: string | undefined): string {
  const roleName = role === undefined ? '<reader role>' : quoteIdent(role);
  const command = `npm run cli -- reader-sql${file === undefined ? '' : ` ${shellWord(file)}`}${role === undefined ? '' : ` --role ${shellWord(role)}`}`;
  // The generic advice of toSourceError is replaced by the exact one.
  const generic = message.lastIndexOf('; GRANT ');
  let base = generic === -1 ? message : message.slice(0, generic);
  if (role !== undefined) base = base.replace('the reader role may not read', `the reader role ${quoteIdent(role)} may not read`);
  if (!isTableRef(source)) return `${base}; grant the reader role ${roleName} USAGE on each schema and SELECT on each table the query reads (\`${command}\` prints the statements)`;
  const statements = engine.grantAdvice?.(source, role ?? '<reader role>');
  if (statements === undefined) return `${base}; let the reader ${roleName} read it (\`${command}\` prints how)`;
  return `${base}; as an administrator of the warehouse, run: ${statements} (\`${command}\` prints every grant)`;
}

/**
 * Checks an activation against its real source, as the reader role sees it: the table or query
 * exists and is readable, every key, cursor and mapped column exists (with a suggestion for a
 * typo) and is of a usable type. Reads no row: the query runs with LIMIT 0.
 */
export async function checkAgainstSource(
  warehouse: SegmentSource,
  activation: ActivationConfig,
  resolved: ResolvedActivation,
  options: SourceCheckOptions = {},
): Promise<ColumnProblem[]> {
  const source = sourceRefOf(activation);
  const limits = { statementTimeoutMs: parseDuration(activation.statementTimeout) };
  // The engine's early word on a query in its own dialect; its server is the guard.
  const queryProblem = source.kind === 'query' ? warehouse.checkQuery?.(source.sql) : undefined;
  if (queryProblem !== undefined) return [{ path: 'source.sql', message: `sql ${queryProblem}` }];
  let columns;
  try {
    const key = JSON.stringify([warehouseOf(activation), source, limits.statementTimeoutMs]);
    let described = options.columns?.get(key);
    if (described === undefined) {
      described = warehouse.describe(source, limits);
      options.columns?.set(key, described);
    }
    columns = await described;
  } catch (error) {
    const readerRole = options.readerRole ?? warehouse.readerName;
    const context = errorContextFor(activation, { subject: 'the source cannot be read', ...(readerRole === undefined ? {} : { readerRole }) });
    const described = warehouse.describeError(error, context);
    if (described.problem === 'no-access') return [{ path: 'source', message: grantAdvice(warehouse, described.message, source, readerRole, options.file) }];
    if (described.problem === 'missing-source') {
      const suggestion = await warehouse.suggestSource?.(source, limits).catch(() => undefined);
      return [{ path: 'source', message: suggestion === undefined ? described.message : `${described.message}; ${suggestion}` }];
    }
    return [{ path: 'source', message: described.message }];
  }
  const shape = shapeFor(activation, resolved, columns);
  return shape.ok ? [] : shape.problems;
}
