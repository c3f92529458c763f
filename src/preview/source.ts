import { loadActivation, type StoredActivation } from '../db/config-store.ts';
import type { AppDb } from '../db/database.ts';
import { parseDuration, PublicError, type ActivationConfig } from '../domain/index.ts';
import type { ScanLimits } from '../detection/scan-session.ts';
import { shapeFor, sourceRefOf, warehouseOf } from '../source/columns.ts';
import { errorContextFor } from '../source/errors.ts';
import type { ReadLimits, SegmentSource, SourceShape, WarehouseLookup } from '../source/types.ts';

export interface PreviewDeps {
  db: AppDb;
  warehouses: WarehouseLookup;
  /** what a scan may take from the app database (the worker's SCAN_* settings); defaults otherwise */
  scanLimits?: ScanLimits;
}

export interface Prepared {
  stored: StoredActivation;
  /** the warehouse the activation reads */
  source: SegmentSource;
  shape: SourceShape;
  limits: ReadLimits;
}

/** The activation and its source's shape, or an error that says what does not fit. */
export async function prepareActivation(deps: PreviewDeps, activationId: string): Promise<Prepared> {
  const stored = await loadActivation(deps.db, activationId);
  const limits = { statementTimeoutMs: parseDuration(stored.activation.statementTimeout) };
  const source = deps.warehouses.get(warehouseOf(stored.activation));
  let columns;
  try {
    columns = await source.describe(sourceRefOf(stored.activation), limits);
  } catch (error) {
    throw sourceFailureOf(error, stored.activation, source);
  }
  const shape = shapeFor(stored.activation, stored.resolved, columns);
  if (!shape.ok) {
    throw new PublicError(`Activation '${activationId}' does not fit its source:\n${shape.problems.map((problem) => `  - ${problem.path}: ${problem.message}`).join('\n')}`);
  }
  return { stored, source, shape: shape.shape, limits };
}

/** A warehouse error as a preview shows it: named after the activation, quoting only its configured names. */
export function sourceFailureOf(error: unknown, activation: ActivationConfig, source: SegmentSource): Error {
  const readerRole = source.readerName;
  return source.describeError(error, errorContextFor(activation, { subject: `Activation '${activation.id}'`, ...(readerRole === undefined ? {} : { readerRole }) }));
}
