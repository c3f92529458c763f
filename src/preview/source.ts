import { loadActivation, type StoredActivation } from '../db/config-store.ts';
import type { AppDb } from '../db/database.ts';
import { parseDuration, PublicError } from '../domain/index.ts';
import { shapeFor, sourceRefOf } from '../source/columns.ts';
import { toSourceError } from '../source/errors.ts';
import { describeSource } from '../source/read.ts';
import type { SourceShape } from '../source/shape.ts';
import type { ReadLimits, Warehouse } from '../source/warehouse.ts';

export interface PreviewDeps {
  db: AppDb;
  warehouse: Warehouse;
}

export interface Prepared {
  stored: StoredActivation;
  shape: SourceShape;
  limits: ReadLimits;
}

/** The activation and its source's shape, or an error that says what does not fit. */
export async function prepareActivation(deps: PreviewDeps, activationId: string): Promise<Prepared> {
  const stored = await loadActivation(deps.db, activationId);
  const limits = { statementTimeoutMs: parseDuration(stored.activation.statementTimeout) };
  let columns;
  try {
    columns = await describeSource(deps.warehouse, sourceRefOf(stored.activation), limits);
  } catch (error) {
    throw toSourceError(error, { subject: `Activation '${activationId}'`, statementTimeout: stored.activation.statementTimeout });
  }
  const shape = shapeFor(stored.activation, stored.resolved, columns);
  if (!shape.ok) {
    throw new PublicError(`Activation '${activationId}' does not fit its source:\n${shape.problems.map((problem) => `  - ${problem.path}: ${problem.message}`).join('\n')}`);
  }
  return { stored, shape: shape.shape, limits };
}

export function sourceFailureOf(error: unknown, activationId: string, statementTimeout: string): Error {
  return toSourceError(error, { subject: `Activation '${activationId}'`, statementTimeout });
}
