import type { Client } from '@temporalio/client';
import { cliEnv, withServices } from '../context.ts';
import { readConfigEntries, readConfigFiles, type ConfigEntry, type SkippedFile } from '../config-files.ts';
import { CliError, colors, isTerminal, printJson } from '../output.ts';
import {
  ConfigValidationError,
  deleteActivation,
  deleteDestination,
  listActivations,
  loadActivation,
  parseActivation,
  parseDestination,
  saveActivation,
  saveDestination,
  storedConfigs,
} from '../../db/config-store.ts';
import type { AppDb } from '../../db/database.ts';
import { claimDeployment, readDeployment } from '../../db/deployment.ts';
import { destinationConfigSchema, parseConfigs, type ActivationConfig, type DestinationConfig, type ResolvedActivation } from '../../domain/index.ts';
import { checkAgainstSource } from '../../source/check.ts';
import { sourceRefOf } from '../../source/columns.ts';
import { DEFAULT_READER_ROLE, PER_ACTIVATION_ROLE_PREFIX, ReaderRoleError, activationRoleName, readerRoleProblems, readerRoleSql, type ActivationSource } from '../../source/reader-role.ts';
import type { Warehouse } from '../../source/warehouse.ts';
import { STOP_GRACE_MS, stopRunsOf } from '../../temporal/stop-runs.ts';
import { deleteSchedule, ensureSchedule, pausedAgainNote, scheduleDrift, ScheduleSpecError, type ScheduleDrift } from '../../temporal/schedules.ts';
import { PublicError } from '../../domain/public-error.ts';
import type { SourceColumn } from '../../source/shape.ts';

export interface Problem {
  where: string;
  message: string;
}

interface Checked {
  entries: ConfigEntry[];
  destinations: Map<string, DestinationConfig>;
  activations: Map<string, { config: ActivationConfig; resolved: ResolvedActivation; entry: ConfigEntry }>;
  problems: Problem[];
}

function label(entry: ConfigEntry): string {
  return `${entry.file}: ${entry.kind} ${entry.id ? `'${entry.id}'` : entry.where}`;
}

/** Parses every entry, each activation against its destination (in the files, else stored); lists every problem. */
async function checkEntries(entries: ConfigEntry[], db: AppDb | undefined): Promise<Checked> {
  const problems: Problem[] = [];
  const destinations = new Map<string, DestinationConfig>();
  const rawDestinations = new Map<string, unknown>();
  const seen = new Map<string, ConfigEntry>();
  for (const entry of entries) {
    if (entry.id !== undefined) {
      const key = `${entry.kind}:${entry.id}`;
      const first = seen.get(key);
      if (first) problems.push({ where: label(entry), message: `also defined in ${first.file} (${first.where}); define it once` });
      seen.set(key, entry);
    }
  }
  for (const entry of entries.filter((candidate) => candidate.kind === 'destination')) {
    try {
      const destination = parseDestination(entry.value);
      destinations.set(destination.id, destination);
      rawDestinations.set(destination.id, entry.value);
    } catch (error) {
      if (!(error instanceof ConfigValidationError)) throw error;
      for (const issue of error.issues) problems.push({ where: label(entry), message: `${issue.path}: ${issue.message}` });
    }
  }
  const activations: Checked['activations'] = new Map();
  for (const entry of entries.filter((candidate) => candidate.kind === 'activation')) {
    const result = db
      ? await parseActivation(db, entry.value, rawDestinations)
      : parseConfigs(rawDestinations.get(destinationIdOf(entry.value)) ?? destinationPlaceholder(entry.value), entry.value);
    if (!result.ok) {
      for (const issue of result.issues) problems.push({ where: label(entry), message: `${issue.path}: ${issue.message}` });
      continue;
    }
    activations.set(result.activation.id, { config: result.activation, resolved: result.resolved, entry });
  }
  return { entries, destinations, activations, problems };
}

function destinationIdOf(value: unknown): string {
  return typeof value === 'object' && value !== null && 'destinationId' in value ? String(value.destinationId) : '';
}

/**
 * Without a database, an activation whose destination is not in the files is checked on its own
 * (against a stand-in destination of its own id and type), so the file is still validated.
 */
function destinationPlaceholder(activation: unknown): unknown {
  const target = typeof activation === 'object' && activation !== null && 'target' in activation ? (activation.target as Record<string, unknown>) : {};
  const invitationType = typeof target.invitationType === 'string' ? target.invitationType : 'service';
  return destinationConfigSchema.parse({ id: destinationIdOf(activation) || 'unknown', businessUnitId: 'unknown', invitationType });
}

/** The reader role, and every activation against its real source. */
async function checkSources(warehouse: Warehouse, checked: Checked): Promise<Problem[]> {
  const problems: Problem[] = [];
  let readerRole: string | undefined;
  try {
    const role = await readerRoleProblems(warehouse, warehouse.appRole === undefined ? {} : { appRole: warehouse.appRole });
    readerRole = role.role;
    if (role.problems.length > 0) {
      const sources = [...checked.activations.values()].map((entry) => sourceRefOf(entry.config));
      problems.push({ where: 'WAREHOUSE_DATABASE_URL', message: new ReaderRoleError(role.problems, { ...role, sources }).message.trimEnd() });
      return problems;
    }
  } catch (error) {
    problems.push({ where: 'WAREHOUSE_DATABASE_URL', message: `cannot connect to the warehouse: ${error instanceof Error ? error.message : String(error)}` });
    return problems;
  }
  const columns = new Map<string, Promise<SourceColumn[]>>();
  for (const { config, resolved, entry } of checked.activations.values()) {
    for (const problem of await checkAgainstSource(warehouse, config, resolved, { readerRole, file: entry.file, columns })) {
      problems.push({ where: label(entry), message: `${problem.path}: ${problem.message}` });
    }
  }
  return problems;
}

function printProblems(problems: readonly Problem[]): void {
  for (const problem of problems) console.log(`${colors.red('✗')} ${problem.where}: ${problem.message}`);
}

/** Files of the folders named that were not read: a YAML file beside JSON ones would otherwise go unnoticed (and, with --prune, be deleted). */
function printSkipped(skipped: readonly SkippedFile[]): void {
  for (const entry of skipped) console.log(colors.dim(`  skipped ${entry.file}: ${entry.reason}`));
}

export interface ValidateOptions {
  json?: boolean;
}

/** `validate`: checks files (and, when a database is configured, their sources) without saving anything. */
export async function validateCommand(paths: string[], options: ValidateOptions): Promise<void> {
  const { entries, skipped } = await readConfigFiles(paths);
  const { env } = cliEnv();
  let result: { problems: Problem[]; sourcesChecked: boolean; destinations: number; activations: number };
  if (env.DATABASE_URL) {
    result = await withServices(async (services) => {
      const checked = await checkEntries(entries, services.db);
      const problems = [...checked.problems, ...(checked.problems.length === 0 ? await checkSources(services.warehouse, checked) : [])];
      return { problems, sourcesChecked: checked.problems.length === 0, destinations: checked.destinations.size, activations: checked.activations.size };
    });
  } else {
    const checked = await checkEntries(entries, undefined);
    result = { problems: checked.problems, sourcesChecked: false, destinations: checked.destinations.size, activations: checked.activations.size };
  }
  if (options.json) printJson({ valid: result.problems.length === 0, sourcesChecked: result.sourcesChecked, problems: result.problems, skipped });
  else if (result.problems.length > 0) {
    printSkipped(skipped);
    printProblems(result.problems);
  } else {
    printSkipped(skipped);
    console.log(`${colors.green('✓')} valid: ${result.destinations} destination(s), ${result.activations} activation(s)`);
    if (!result.sourcesChecked) console.log(colors.dim('  sources not checked: no database configured (set DATABASE_URL and WAREHOUSE_DATABASE_URL, or start `npm start`)'));
  }
  if (result.problems.length > 0) throw new CliError(`${result.problems.length} problem(s)`, 1);
}

type Action = 'create' | 'change' | 'unchanged' | 'delete';

interface PlanItem {
  /** `schedule`: a live schedule that differs from what its activation says (changed in Temporal, or missing) */
  kind: 'destination' | 'activation' | 'schedule';
  id: string;
  action: Action;
  /** for a schedule: what differs, and what apply does about it */
  detail?: string;
}

/** `apply --prune` deletes more than this many destinations and activations only with --yes. */
export const PRUNE_CONFIRM_ABOVE = 3;

/** Schedules described at once while planning: enough to plan thousands quickly, few enough for a shared server. */
const DESCRIBE_CONCURRENCY = 8;

async function mapConcurrently<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * The live schedules that differ from what apply will set: resumed or paused in the Temporal UI,
 * or missing. Without this, apply would undo a change made in Temporal and report no change.
 */
async function scheduleDrifts(db: AppDb, temporal: Client, checked: Checked, plan: readonly PlanItem[]): Promise<Map<string, ScheduleDrift>> {
  const deployment = await readDeployment(db);
  // Nothing of this deployment's can be in Temporal before it exists.
  if (!deployment) return new Map();
  // Soft-deleted rows keep their note, and an activation applied again under their id gets it back.
  const notes = new Map((await db.selectFrom('app.activations').select(['id', 'paused_note']).execute()).map((row) => [row.id, row.paused_note]));
  const stored = new Map((await listActivations(db)).map((listing) => [listing.id, listing]));
  const items = plan.filter((item) => item.kind === 'activation' && item.action !== 'delete');
  const drifts = await mapConcurrently(items, DESCRIBE_CONCURRENCY, async (item) => {
    const activation = checked.activations.get(item.id)?.config;
    if (!activation) return undefined;
    const previous = stored.get(item.id);
    const drift = await scheduleDrift(
      temporal,
      { activation, deploymentId: deployment.deploymentId, pausedNote: notes.get(item.id) ?? null },
      previous ? { activation: previous.config, pausedNote: previous.pausedNote } : undefined,
    );
    // A new activation's schedule is created anyway: that is its `+` line.
    return drift && !(item.action === 'create' && drift.description.startsWith('missing')) ? drift : undefined;
  });
  return new Map(drifts.filter((drift): drift is ScheduleDrift => drift !== undefined).map((drift) => [drift.activationId, drift]));
}

async function planOf(db: AppDb, checked: Checked, prune: boolean): Promise<PlanItem[]> {
  const stored = await storedConfigs(db);
  const actionFor = (current: string | undefined, next: string): Action => (current === undefined ? 'create' : current === next ? 'unchanged' : 'change');
  const plan: PlanItem[] = [
    ...[...checked.destinations.values()].map((destination) => ({
      kind: 'destination' as const,
      id: destination.id,
      action: actionFor(stored.destinations.get(destination.id), JSON.stringify(destination)),
    })),
    ...[...checked.activations.values()].map(({ config }) => ({
      kind: 'activation' as const,
      id: config.id,
      action: actionFor(stored.activations.get(config.id), JSON.stringify(config)),
    })),
  ];
  if (prune) {
    for (const id of stored.activations.keys()) if (!checked.activations.has(id)) plan.push({ kind: 'activation', id, action: 'delete' });
    for (const id of stored.destinations.keys()) if (!checked.destinations.has(id)) plan.push({ kind: 'destination', id, action: 'delete' });
  }
  return plan;
}

const SYMBOLS: Record<Action, string> = { create: colors.green('+'), change: colors.yellow('~'), unchanged: colors.dim('='), delete: colors.red('-') };

function printPlan(plan: readonly PlanItem[]): void {
  for (const item of plan) {
    if (item.detail !== undefined) console.log(`  ${SYMBOLS[item.action]} ${item.kind} ${item.id}: ${item.detail}`);
    else console.log(`  ${SYMBOLS[item.action]} ${item.kind} ${item.id}${item.action === 'unchanged' ? colors.dim(' (unchanged)') : ` (${item.action})`}`);
  }
}

/** `3 activation(s) (a, b, c) and 1 destination(s) (d)`: how many of each, and which. */
function deletionSummary(deletions: readonly PlanItem[]): string {
  const parts: string[] = [];
  for (const kind of ['activation', 'destination'] as const) {
    const ids = deletions.filter((item) => item.kind === kind).map((item) => item.id);
    if (ids.length === 0) continue;
    parts.push(`${ids.length} ${kind}(s) (${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', …' : ''})${kind === 'activation' ? ' with their schedules' : ''}`);
  }
  return parts.join(' and ');
}

/** A schedule Temporal would not take, or could not be reached for, named by activation rather than reported as a crash. */
function scheduleFailure(activationId: string, verb: string, error: unknown): unknown {
  if (error instanceof PublicError || !(error instanceof Error)) return error;
  if (error instanceof TypeError) return new ScheduleSpecError(`activation '${activationId}': Temporal refused its schedule (schedule): ${error.message.slice(0, 200)}`);
  const code = 'code' in error && (typeof error.code === 'string' || typeof error.code === 'number') ? `, code ${String(error.code)}` : '';
  if (error.name === 'ServiceError') return new PublicError(`activation '${activationId}': its schedule could not be ${verb} in Temporal (${error.name}${code})`);
  return error;
}

/**
 * Brings Temporal back in line with the database after a failed apply (the transaction was rolled
 * back): schedules this apply created are deleted, the others are set back from what is stored.
 * A schedule another deployment owns was never touched, and is left alone.
 */
async function restoreSchedules(db: AppDb, temporal: Client, taskQueue: string, touched: readonly string[], created: ReadonlySet<string>): Promise<void> {
  const deployment = await readDeployment(db);
  if (!deployment) return;
  const existing = new Set((await listActivations(db)).map((activation) => activation.id));
  for (const id of touched) {
    try {
      if (created.has(id)) {
        await deleteSchedule(temporal, id, deployment.deploymentId);
      } else if (existing.has(id)) {
        const stored = await loadActivation(db, id);
        await ensureSchedule(temporal, { activation: stored.activation, taskQueue, deploymentId: deployment.deploymentId, pausedNote: stored.pausedNote });
      }
    } catch {
      // Best effort: `sync-schedules` repairs what is left.
    }
  }
}

export interface ApplyOptions {
  prune?: boolean;
  /** confirms a prune that deletes more than PRUNE_CONFIRM_ABOVE entries */
  yes?: boolean;
  json?: boolean;
}

/**
 * `apply`: validates like `validate` (sources included), shows the plan, then saves every
 * destination and activation and syncs their schedules as one unit: if anything fails, nothing
 * is saved and the schedules are put back as they were.
 */
export async function applyCommand(paths: string[], options: ApplyOptions): Promise<void> {
  const { entries, skipped } = await readConfigFiles(paths);
  await withServices(
    async (services) => {
      const { db, temporal, env } = services;
      const checked = await checkEntries(entries, db);
      const problems = [...checked.problems, ...(checked.problems.length === 0 ? await checkSources(services.warehouse, checked) : [])];
      if (problems.length > 0) {
        if (options.json) printJson({ applied: false, problems, skipped });
        else {
          printSkipped(skipped);
          printProblems(problems);
        }
        throw new CliError(`${problems.length} problem(s); nothing was saved`);
      }
      const plan = await planOf(db, checked, options.prune ?? false);
      const drifts = await scheduleDrifts(db, temporal, checked, plan);
      for (const drift of drifts.values()) plan.push({ kind: 'schedule', id: drift.activationId, action: 'change', detail: drift.description });
      if (!options.json) {
        printSkipped(skipped);
        console.log('Plan:');
        printPlan(plan);
      }
      const deletions = plan.filter((item) => item.action === 'delete');
      if (deletions.length > PRUNE_CONFIRM_ABOVE && !options.yes) {
        const reason = `--prune would delete ${deletionSummary(deletions)}, which the files named do not hold; nothing was changed. Check the paths (${paths.join(', ')}), then add --yes to delete them`;
        if (options.json) printJson({ applied: false, plan, skipped, refused: reason });
        throw new CliError(reason);
      }
      const deployment = await claimDeployment(db, cliEnv().devMode ? 'dev' : 'production').catch(async () => readDeployment(db));
      if (!deployment) throw new CliError('the app database has no deployment record');
      const touched = plan.filter((item) => item.kind === 'activation').map((item) => item.id);
      const created = new Set<string>();
      try {
        await db.transaction().execute(async (trx) => {
          for (const destination of checked.destinations.values()) await saveDestination(trx, destination);
          for (const { config } of checked.activations.values()) await saveActivation(trx, config);
          for (const item of plan.filter((candidate) => candidate.action === 'delete')) {
            if (item.kind === 'activation') await deleteActivation(trx, item.id);
          }
          for (const item of plan.filter((candidate) => candidate.action === 'delete' && candidate.kind === 'destination')) {
            await deleteDestination(trx, item.id);
          }
          for (const item of plan) {
            if (item.kind !== 'activation') continue;
            if (item.action === 'delete') {
              await deleteSchedule(temporal, item.id, deployment.deploymentId).catch((error: unknown) => {
                throw scheduleFailure(item.id, 'deleted', error);
              });
              continue;
            }
            const stored = await loadActivation(trx, item.id);
            const target = { activation: stored.activation, taskQueue: env.TEMPORAL_TASK_QUEUE, deploymentId: deployment.deploymentId, pausedNote: stored.pausedNote };
            const outcome = await ensureSchedule(temporal, drifts.get(item.id)?.resumedInTemporal ? { ...target, pausedAgain: pausedAgainNote(target) } : target).catch(
              (error: unknown) => {
                throw scheduleFailure(item.id, 'synced', error);
              },
            );
            if (outcome === 'created') created.add(item.id);
          }
        });
      } catch (error) {
        await restoreSchedules(db, temporal, env.TEMPORAL_TASK_QUEUE, touched, created);
        throw error;
      }
      // Pruned activations are deleted now: their runs in progress stop, their unsent rows wait in the ledger.
      const stoppedRuns = [];
      for (const item of plan.filter((candidate) => candidate.kind === 'activation' && candidate.action === 'delete')) {
        stoppedRuns.push(...(await stopRunsOf(services, item.id, { reason: `activation ${item.id} was pruned (cli apply --prune)`, graceMs: STOP_GRACE_MS })));
      }
      if (!options.json) {
        for (const run of stoppedRuns) console.log(`  stopped ${run.runId === null ? 'workflow' : `run ${run.runId}`} (${run.workflowId}) of a pruned activation: ${run.how}`);
      }
      if (options.json) printJson({ applied: true, plan, skipped, stoppedRuns });
      else {
        const changed = plan.filter((item) => item.action !== 'unchanged').length;
        console.log(`${colors.green('✓')} applied: ${changed} change(s), schedules in sync`);
        if (isTerminal && plan.some((item) => item.kind === 'activation' && item.action === 'create')) {
          console.log(colors.dim('  next: `npm run cli -- dry-run <activation>` to preview, `npm run cli -- run <activation>` to run now'));
        }
      }
    },
    { migrate: true },
  );
}

export interface ReaderSqlOptions {
  role?: string;
  database?: string;
  perActivation?: boolean;
  json?: boolean;
}

/** The activations of files, checked as `validate` checks them (against stored destinations when there is a database). */
async function activationsOfFiles(paths: string[], db: AppDb | undefined): Promise<ActivationSource[]> {
  const checked = await checkEntries(await readConfigEntries(paths), db);
  if (checked.problems.length > 0) {
    printProblems(checked.problems);
    throw new CliError(`${checked.problems.length} problem(s)`, 1);
  }
  return [...checked.activations.values()].map(({ config }) => ({ id: config.id, source: sourceRefOf(config) }));
}

/**
 * `reader-sql`: the SQL for the reader role, granted what the activations read: those of `paths`
 * (saved or not), else the stored ones when a database is reachable.
 */
export async function readerSqlCommand(paths: string[], options: ReaderSqlOptions): Promise<void> {
  const { env } = cliEnv();
  let activations: ActivationSource[] = [];
  let database = options.database;
  if (env.DATABASE_URL) {
    await withServices(async (services) => {
      activations =
        paths.length > 0
          ? await activationsOfFiles(paths, services.db)
          : (await listActivations(services.db)).map((activation) => ({ id: activation.id, source: sourceRefOf(activation.config) }));
      database ??= new URL(env.WAREHOUSE_DATABASE_URL ?? env.DATABASE_URL ?? '').pathname.slice(1) || undefined;
    });
  } else if (paths.length > 0) {
    activations = await activationsOfFiles(paths, undefined);
  }
  const sources = activations.map((activation) => activation.source);
  const warehouse = database ?? '<warehouse database>';
  if (options.perActivation) {
    const prefix = options.role ?? PER_ACTIVATION_ROLE_PREFIX;
    const text = readerRoleSql({ database: warehouse, sources, role: prefix, perActivation: activations });
    if (options.json) {
      printJson({
        database: database ?? null,
        roles: activations.map((activation) => ({ activation: activation.id, role: activationRoleName(activation.id, prefix) })),
        sql: text.split('\n').map((line) => line.trim()),
      });
      return;
    }
    console.log('-- Run as an administrator of the warehouse database; each activation is then read as a role of its own.');
    console.log(text);
    return;
  }
  const role = options.role ?? DEFAULT_READER_ROLE;
  const text = readerRoleSql({ database: warehouse, sources, role });
  if (options.json) {
    printJson({ role, database: database ?? null, sql: text.split('\n').map((line) => line.trim()) });
    return;
  }
  console.log(`-- Run as an administrator of the warehouse database; segments are then read as ${role}.`);
  console.log(text);
}
