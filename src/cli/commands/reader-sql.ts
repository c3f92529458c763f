import { cliEnv, withServices } from '../context.ts';
import { checkEntries, printProblems } from '../config-checks.ts';
import { readConfigEntries } from '../config-files.ts';
import { CliError, printJson } from '../output.ts';
import { listActivations } from '../../db/config-store.ts';
import type { AppDb } from '../../db/database.ts';
import { sourceRefOf, warehouseOf } from '../../source/columns.ts';
import { DEFAULT_READER_ROLE, PER_ACTIVATION_ROLE_PREFIX, activationRoleName } from '../../source/reader-names.ts';
import type { ActivationSource, SegmentSource } from '../../source/types.ts';
import { Warehouses, warehouseConfigsFrom } from '../../source/warehouses.ts';

interface WarehouseActivation extends ActivationSource {
  warehouse: string;
}

export interface ReaderSqlOptions {
  role?: string;
  database?: string;
  perActivation?: boolean;
  json?: boolean;
}

/** The activations of files, checked as `validate` checks them (against stored destinations when there is a database). */
async function activationsOfFiles(paths: string[], db: AppDb | undefined): Promise<WarehouseActivation[]> {
  const checked = await checkEntries(await readConfigEntries(paths), db);
  if (checked.problems.length > 0) {
    printProblems(checked.problems);
    throw new CliError(`${checked.problems.length} problem(s)`, 1);
  }
  return [...checked.activations.values()].map(({ config }) => ({ id: config.id, source: sourceRefOf(config), warehouse: warehouseOf(config) }));
}

interface OtherWarehouseSetup {
  warehouse: string;
  engine: string | null;
  activations: string[];
  /** the engine's setup, or null when the warehouse is not configured in this environment */
  setup: string | null;
}

/** The setup of the readers of warehouses other than the default one (each engine prints its own). */
function otherWarehouses(activations: readonly WarehouseActivation[], warehouses: Warehouses | undefined, options: ReaderSqlOptions): OtherWarehouseSetup[] {
  const names = [...new Set(activations.map((activation) => activation.warehouse))].filter((name) => name !== 'default');
  return names.map((name) => {
    let source: SegmentSource | undefined;
    try {
      source = warehouses?.get(name);
    } catch {
      source = undefined;
    }
    const mine = activations.filter((activation) => activation.warehouse === name);
    const ids = mine.map((activation) => activation.id);
    if (!source) return { warehouse: name, engine: null, activations: ids, setup: null };
    const setup = source.setupSql({ sources: mine, ...(options.perActivation ? { perActivation: true } : {}), ...(options.role === undefined ? {} : { role: options.role }) });
    return { warehouse: name, engine: source.engine, activations: ids, setup };
  });
}

function printOther(other: OtherWarehouseSetup, first: boolean): void {
  const ids = other.activations.join(', ');
  const text =
    other.setup === null
      ? `-- warehouse '${other.warehouse}' (${ids}): not configured here (WAREHOUSE_${other.warehouse.toUpperCase()}_URL); run reader-sql where it is`
      : `-- warehouse '${other.warehouse}' (${other.engine ?? ''}), read by ${ids}:\n${other.setup}`;
  console.log(first ? text : `\n${text}`);
}

/**
 * `reader-sql`: the SQL for the reader role, granted what the activations read: those of `paths`
 * (saved or not), else the stored ones when a database is reachable.
 */
export async function readerSqlCommand(paths: string[], options: ReaderSqlOptions): Promise<void> {
  const { env } = cliEnv();
  let all: WarehouseActivation[] = [];
  let database = options.database;
  let others: OtherWarehouseSetup[] = [];
  if (env.DATABASE_URL) {
    await withServices(async (services) => {
      all =
        paths.length > 0
          ? await activationsOfFiles(paths, services.db)
          : (await listActivations(services.db)).map((activation) => ({ id: activation.id, source: sourceRefOf(activation.config), warehouse: warehouseOf(activation.config) }));
      database ??= new URL(env.WAREHOUSE_DATABASE_URL ?? env.DATABASE_URL ?? '').pathname.slice(1) || undefined;
      others = otherWarehouses(all, services.warehouses, options);
    });
  } else if (paths.length > 0) {
    all = await activationsOfFiles(paths, undefined);
    others = otherWarehouses(all, undefined, options);
  }
  // The default warehouse is printed as it always was; the others after it, each by its engine.
  const activations = all.filter((activation) => activation.warehouse === 'default');
  // Activations that all read other warehouses need no Postgres role: only their engines' setup is printed.
  const showDefault = activations.length > 0 || all.length === 0;
  const warehouse = database ?? '<warehouse database>';
  // Without a configured default warehouse, its setup is a Postgres one (the default engine).
  const configured = warehouseConfigsFrom(process.env, env.DATABASE_URL);
  const defaults = new Warehouses(
    configured.some((config) => config.name === 'default')
      ? configured
      : [{ name: 'default', variable: 'WAREHOUSE_DATABASE_URL', url: `postgres://${DEFAULT_READER_ROLE}@localhost/${encodeURIComponent(warehouse)}` }],
    { env: process.env },
  );
  const setupOf = (options: { perActivation?: boolean; role: string }) =>
    defaults.get('default').setupSql({ sources: activations, database: warehouse, role: options.role, ...(options.perActivation ? { perActivation: true } : {}) });
  if (options.perActivation) {
    const prefix = options.role ?? PER_ACTIVATION_ROLE_PREFIX;
    const text = setupOf({ perActivation: true, role: prefix });
    if (options.json) {
      printJson({
        database: database ?? null,
        roles: activations.map((activation) => ({ activation: activation.id, role: activationRoleName(activation.id, prefix) })),
        sql: showDefault ? text.split('\n').map((line) => line.trim()) : [],
        warehouses: others,
      });
      return;
    }
    if (showDefault) {
      console.log('-- Run as an administrator of the warehouse database; each activation is then read as a role of its own.');
      console.log(text);
    }
    others.forEach((other, index) => printOther(other, !showDefault && index === 0));
    return;
  }
  const role = options.role ?? DEFAULT_READER_ROLE;
  const text = setupOf({ role });
  if (options.json) {
    printJson({ role, database: database ?? null, sql: showDefault ? text.split('\n').map((line) => line.trim()) : [], warehouses: others });
    return;
  }
  if (showDefault) {
    console.log(`-- Run as an administrator of the warehouse database; segments are then read as ${role}.`);
    console.log(text);
  }
  others.forEach((other, index) => printOther(other, !showDefault && index === 0));
}
