import { Context } from '@temporalio/activity';
import { parseConfigs, parseDuration, type ActivationConfig, type DestinationConfig, type ResolvedActivation } from '../domain/index.ts';
import type { AppDb } from '../db/database.ts';
import { PublicError } from '../domain/public-error.ts';
import { shapeFor, sourceRefOf, warehouseOf } from '../source/columns.ts';
import { errorContextFor, type SourceErrorContext } from '../source/errors.ts';
import type { ReadLimits, SegmentSource, SourceShape, WarehouseLookup } from '../source/types.ts';
import { misconfigured, otherDeployment, sourceFailure } from './failures.ts';

/** The configuration snapshot a run took when it started; the run never sees later edits. */
export interface RunConfig {
  /** the workflow the run belongs to: only its activities may act on the run */
  workflowId: string;
  destination: DestinationConfig;
  activation: ActivationConfig;
  resolved: ResolvedActivation;
  /** the warehouse the activation reads */
  source: SegmentSource;
  limits: ReadLimits;
  /** how a warehouse error names this activation */
  subject: string;
  /** what a warehouse error may name: this activation, its configuration's names, the reader role */
  errorContext: SourceErrorContext;
}

/** Per-process caches of what never changes during a run: its configuration and its source's shape. */
export interface RunContext {
  config(runId: number): Promise<RunConfig>;
  /** the source's columns checked against the configuration (read once per run and process) */
  shape(runId: number): Promise<SourceShape>;
}

const MAX_CACHED_RUNS = 1_000;

/** Loads once per run and process what a run's activities share; a failed load is tried again. */
export function cachedPerRun<T>(load: (runId: number) => Promise<T>): (runId: number) => Promise<T> {
  const entries = new Map<number, Promise<T>>();
  return (runId) => {
    let entry = entries.get(runId);
    if (!entry) {
      entry = load(runId);
      entry.catch(() => entries.delete(runId));
      entries.set(runId, entry);
      if (entries.size > MAX_CACHED_RUNS) entries.delete(entries.keys().next().value as number);
    }
    return entry;
  };
}

export function createRunContext(db: AppDb, warehouses: WarehouseLookup): RunContext {
  const config = cachedPerRun(async (runId): Promise<RunConfig> => {
    const row = await db.selectFrom('app.runs').select(['config', 'workflow_id']).where('id', '=', runId).executeTakeFirst();
    if (!row) throw otherDeployment(`Run ${runId} is not in this worker's database`);
    // Before anything else is used for it (its warehouse, say): the run must be the caller's.
    refuseOtherWorkflow(runId, row.workflow_id);
    const parsed = parseConfigs(row.config.destination, row.config.activation);
    if (!parsed.ok) {
      throw misconfigured(`Run ${runId} has an invalid configuration snapshot: ${parsed.issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`);
    }
    const subject = `Activation '${parsed.activation.id}'`;
    let source: SegmentSource;
    try {
      source = warehouses.get(warehouseOf(parsed.activation));
    } catch (error) {
      if (error instanceof PublicError) throw misconfigured(`${subject}: ${error.message}`);
      throw error;
    }
    const readerRole = source.readerName;
    return {
      workflowId: row.workflow_id,
      destination: parsed.destination,
      activation: parsed.activation,
      resolved: parsed.resolved,
      source,
      limits: { statementTimeoutMs: parseDuration(parsed.activation.statementTimeout) },
      subject,
      errorContext: errorContextFor(parsed.activation, { subject, ...(readerRole === undefined ? {} : { readerRole }) }),
    };
  });

  const shape = cachedPerRun(async (runId): Promise<SourceShape> => {
    const { activation, resolved, source, limits, subject, errorContext } = await config(runId);
    let columns;
    try {
      columns = await source.describe(sourceRefOf(activation), limits);
    } catch (error) {
      throw sourceFailure(source.describeError(error, errorContext));
    }
    const result = shapeFor(activation, resolved, columns);
    if (!result.ok) throw misconfigured(`${subject} does not fit its source: ${result.problems.map((problem) => `${problem.path}: ${problem.message}`).join('; ')}`);
    return result.shape;
  });

  return {
    async config(runId) {
      const loaded = await config(runId);
      refuseOtherWorkflow(runId, loaded.workflowId);
      return loaded;
    },
    shape,
  };
}

/**
 * A run id names a row of this worker's database; an activity of another deployment's workflow on
 * the same task queue would carry an id that names some other run here (or none).
 */
export function refuseOtherWorkflow(runId: number, runWorkflowId: string): void {
  const calling = Context.current().info.workflowExecution?.workflowId;
  if (calling !== undefined && calling !== runWorkflowId) throw otherDeployment(`Run ${runId} of this worker's database belongs to workflow ${runWorkflowId}, not to ${calling}`);
}

/** Refuses an activity whose run, by id, is not its workflow's run in this worker's database. */
export async function assertOwnRun(db: AppDb, runId: number): Promise<void> {
  const row = await db.selectFrom('app.runs').select('workflow_id').where('id', '=', runId).executeTakeFirst();
  if (!row) throw otherDeployment(`Run ${runId} is not in this worker's database`);
  refuseOtherWorkflow(runId, row.workflow_id);
}
