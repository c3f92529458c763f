import { ConfigValidationError, parseActivation, parseDestination } from '../db/config-store.ts';
import type { AppDb } from '../db/database.ts';
import { destinationConfigSchema, parseConfigs, type ActivationConfig, type DestinationConfig, type ResolvedActivation } from '../domain/index.ts';
import { checkAgainstSource } from '../source/check.ts';
import { PublicError } from '../domain/public-error.ts';
import { accessRefusalText } from '../source/access.ts';
import { sourceRefOf, warehouseOf } from '../source/columns.ts';
import type { SegmentSource, SourceColumn } from '../source/types.ts';
import type { Warehouses } from '../source/warehouses.ts';
import type { ConfigEntry, SkippedFile } from './config-files.ts';
import { colors } from './output.ts';

/**
 * What `validate`, `apply` and `reader-sql` check in configuration files: every entry parsed (each
 * activation against its destination), and, with a warehouse, every activation against its source.
 */

export interface Problem {
  where: string;
  message: string;
}

export interface Checked {
  entries: ConfigEntry[];
  destinations: Map<string, DestinationConfig>;
  activations: Map<string, { config: ActivationConfig; resolved: ResolvedActivation; entry: ConfigEntry }>;
  problems: Problem[];
}

function label(entry: ConfigEntry): string {
  return `${entry.file}: ${entry.kind} ${entry.id ? `'${entry.id}'` : entry.where}`;
}

/** Parses every entry, each activation against its destination (in the files, else stored); lists every problem. */
export async function checkEntries(entries: ConfigEntry[], db: AppDb | undefined): Promise<Checked> {
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

/**
 * Each warehouse the activations read (its reader may do no more than read), and every activation
 * against its real source.
 */
export async function checkSources(warehouses: Warehouses, checked: Checked): Promise<Problem[]> {
  const problems: Problem[] = [];
  const usable = new Map<string, { source: SegmentSource; reader: string | undefined } | undefined>();
  const entries = [...checked.activations.values()];
  for (const name of new Set(entries.map(({ config }) => warehouseOf(config)))) {
    const variable = warehouses.configOf(name)?.variable ?? name;
    let source: SegmentSource;
    try {
      source = warehouses.get(name);
    } catch (error) {
      if (!(error instanceof PublicError)) throw error;
      for (const { entry, config } of entries.filter(({ config }) => warehouseOf(config) === name)) {
        problems.push({ where: label(entry), message: `source.warehouse: ${error.message}` });
        usable.set(warehouseOf(config), undefined);
      }
      continue;
    }
    try {
      const report = await source.checkAccess();
      if (report.problems.length > 0) {
        const sources = entries.filter(({ config }) => warehouseOf(config) === name).map(({ config }) => ({ id: config.id, source: sourceRefOf(config) }));
        problems.push({ where: variable, message: accessRefusalText(source, report, sources).trimEnd() });
        usable.set(name, undefined);
        continue;
      }
      usable.set(name, { source, reader: report.identity });
    } catch (error) {
      problems.push({ where: variable, message: `cannot connect to the warehouse: ${error instanceof Error ? error.message : String(error)}` });
      usable.set(name, undefined);
    }
  }
  const columns = new Map<string, Promise<SourceColumn[]>>();
  for (const { config, resolved, entry } of entries) {
    const warehouse = usable.get(warehouseOf(config));
    if (!warehouse) continue;
    const options = { file: entry.file, columns, ...(warehouse.reader === undefined ? {} : { readerRole: warehouse.reader }) };
    for (const problem of await checkAgainstSource(warehouse.source, config, resolved, options)) {
      problems.push({ where: label(entry), message: `${problem.path}: ${problem.message}` });
    }
  }
  return problems;
}

export function printProblems(problems: readonly Problem[]): void {
  for (const problem of problems) console.log(`${colors.red('✗')} ${problem.where}: ${problem.message}`);
}

/** Files of the folders named that were not read: a YAML file beside JSON ones would otherwise go unnoticed (and, with --prune, be deleted). */
export function printSkipped(skipped: readonly SkippedFile[]): void {
  for (const entry of skipped) console.log(colors.dim(`  skipped ${entry.file}: ${entry.reason}`));
}
