import { loadActivation, type StoredActivation } from '../db/config-store.ts';
import type { AppDb } from '../db/database.ts';
import { parseDuration, PublicError, type ActivationConfig } from '../domain/index.ts';
import { shapeFor, sourceRefOf } from '../source/columns.ts';
import { errorContextFor, toSourceError } from '../source/errors.ts';
import { describeSource } from '../source/read.ts';
import type { ScanLimits } from '../detection/scan-session.ts';
import type { SourceShape } from '../source/shape.ts';
import type { ReadLimits, Warehouse } from '../source/warehouse.ts';

export interface PreviewDeps {
  db: AppDb;
  warehouse: Warehouse;
  /** what a scan may take from the app database (the worker's SCAN_* settings); defaults otherwise */
  scanLimits?: ScanLimits;
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
    throw sourceFailureOf(error, stored.activation, deps.warehouse);
  }
  const shape = shapeFor(stored.activation, stored.resolved, columns);
  if (!shape.ok) {
    throw new PublicError(`Activation '${activationId}' does not fit its source:\n${shape.problems.map((problem) => `  - ${problem.path}: ${problem.message}`).join('\n')}`);
  }
  return { stored, shape: shape.shape, limits };
}

/** A warehouse error as a preview shows it: named after the activation, quoting only its configured names. */
export function sourceFailureOf(error: unknown, activation: ActivationConfig, warehouse: Warehouse): Error {
  const readerRole = warehouse.role;
  return toSourceError(error, errorContextFor(activation, { subject: `Activation '${activation.id}'`, ...(readerRole === undefined ? {} : { readerRole }) }));
}
