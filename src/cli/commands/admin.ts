import { cliEnv, withServices } from '../context.ts';
import { CliError, colors, printJson } from '../output.ts';
import { listActivations } from '../../db/config-store.ts';
import { sourceRefOf } from '../../source/columns.ts';
import { DEFAULT_READER_ROLE, readerRoleSql } from '../../source/reader-role.ts';
import { registerSearchAttributes } from '../../temporal/search-attributes.ts';

export async function syncSchedulesCommand(options: { json?: boolean } = {}): Promise<void> {
  await withServices(async (services) => {
    const outcomes = await services.client.syncSchedules();
    if (options.json) printJson(outcomes);
    else for (const outcome of outcomes) {
      if (typeof outcome.result === 'string') console.log(`${colors.green('✓')} ${outcome.activationId}: schedule ${outcome.result}`);
      else console.log(`${colors.red('✗')} ${outcome.activationId}: ${outcome.result.error}`);
    }
    if (outcomes.length === 0 && !options.json) console.log(colors.dim('no activations'));
    const failed = outcomes.filter((outcome) => typeof outcome.result !== 'string').length;
    if (failed > 0) throw new CliError(`${failed} schedule(s) not in sync; the others are`);
  });
}

export async function registerSearchAttributesCommand(options: { json?: boolean } = {}): Promise<void> {
  await withServices(async (services) => {
    const added = await registerSearchAttributes(services.temporal, services.env.TEMPORAL_NAMESPACE);
    if (options.json) {
      printJson({ namespace: services.env.TEMPORAL_NAMESPACE, registered: added });
      return;
    }
    console.log(
      added.length > 0
        ? `registered on namespace ${services.env.TEMPORAL_NAMESPACE}: ${added.join(', ')}`
        : `namespace ${services.env.TEMPORAL_NAMESPACE} already has every search attribute runs carry`,
    );
  });
}

/** Prints the SQL for the reader role, with grants for what the stored activations read (when a database is reachable). */
export async function readerSqlCommand(options: { role: string; database?: string; json?: boolean }): Promise<void> {
  const { env } = cliEnv();
  let sources: ReturnType<typeof sourceRefOf>[] = [];
  let database = options.database;
  if (env.DATABASE_URL) {
    await withServices(async (services) => {
      sources = (await listActivations(services.db)).map((activation) => sourceRefOf(activation.config));
      database ??= new URL(env.WAREHOUSE_DATABASE_URL ?? env.DATABASE_URL ?? '').pathname.slice(1) || undefined;
    });
  }
  const text = readerRoleSql({ database: database ?? '<warehouse database>', sources, role: options.role });
  if (options.json) {
    printJson({ role: options.role || DEFAULT_READER_ROLE, database: database ?? null, sql: text.split('\n').map((line) => line.trim()) });
    return;
  }
  console.log(`-- Run as an administrator of the warehouse database; segments are then read as ${options.role || DEFAULT_READER_ROLE}.`);
  console.log(text);
}
