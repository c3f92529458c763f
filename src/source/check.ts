import { parseDuration, type ActivationConfig, type ResolvedActivation } from '../domain/index.ts';
import { shapeFor, sourceRefOf, type ColumnProblem } from './columns.ts';
import { errorContextFor, toSourceError } from './errors.ts';
import { describeSource } from './read.ts';
import type { Warehouse } from './warehouse.ts';

/**
 * Checks an activation against its real source, as the reader role sees it: the table or query
 * exists and is readable, every key, cursor and mapped column exists (with a suggestion for a
 * typo) and is of a usable type. Reads no row: the query runs with LIMIT 0.
 */
export async function checkAgainstSource(warehouse: Warehouse, activation: ActivationConfig, resolved: ResolvedActivation): Promise<ColumnProblem[]> {
  let columns;
  try {
    columns = await describeSource(warehouse, sourceRefOf(activation), { statementTimeoutMs: parseDuration(activation.statementTimeout) });
  } catch (error) {
    const readerRole = warehouse.role;
    const context = errorContextFor(activation, { subject: 'the source cannot be read', ...(readerRole === undefined ? {} : { readerRole }) });
    return [{ path: 'source', message: toSourceError(error, context).message }];
  }
  const shape = shapeFor(activation, resolved, columns);
  return shape.ok ? [] : shape.problems;
}
