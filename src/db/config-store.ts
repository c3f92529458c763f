import {
  activationConfigSchema,
  destinationConfigSchema,
  parseConfigs,
  resolveActivation,
  type ActivationConfig,
  type ConfigIssue,
  type DestinationConfig,
  type ResolvedActivation,
} from '../domain/index.ts';
import { PublicError } from '../domain/public-error.ts';
import type { AppDb } from './database.ts';
import type { Json } from './schema.ts';

export class ConfigValidationError extends PublicError {
  override readonly name = 'ConfigValidationError';
  constructor(
    readonly subject: string,
    readonly issues: ConfigIssue[],
  ) {
    super(`${subject} is invalid:\n${issues.map((issue) => `  - ${issue.path}: ${issue.message}`).join('\n')}`);
  }
}

export class NotFoundError extends PublicError {
  override readonly name = 'NotFoundError';
}

export interface StoredActivation {
  destination: DestinationConfig;
  activation: ActivationConfig;
  resolved: ResolvedActivation;
  watermark: string | null;
  /** why an operator (or too many failed runs) paused it; null when not paused so */
  pausedNote: string | null;
}

export function watermarkText(value: Json | null): string | null {
  return value === null || value === undefined ? null : typeof value === 'string' ? value : JSON.stringify(value);
}

function knownIds(ids: string[]): string {
  return ids.length === 0 ? 'none exists yet' : `known: ${ids.join(', ')}`;
}

async function activeDestinationIds(db: AppDb): Promise<string[]> {
  const rows = await db.selectFrom('app.destinations').select('id').where('deleted_at', 'is', null).orderBy('id').execute();
  return rows.map((row) => row.id);
}

async function activeActivationIds(db: AppDb): Promise<string[]> {
  const rows = await db.selectFrom('app.activations').select('id').where('deleted_at', 'is', null).orderBy('id').execute();
  return rows.map((row) => row.id);
}

export async function getDestination(db: AppDb, id: string): Promise<DestinationConfig> {
  const row = await db.selectFrom('app.destinations').select('config').where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
  if (!row) throw new NotFoundError(`Destination '${id}' does not exist (${knownIds(await activeDestinationIds(db))})`);
  return parseDestination(row.config);
}

export async function listDestinations(db: AppDb): Promise<DestinationConfig[]> {
  const rows = await db.selectFrom('app.destinations').select('config').where('deleted_at', 'is', null).orderBy('id').execute();
  // A destination saved before a rule tightened says what to change, as a file would.
  return rows.map((row) => parseDestination(row.config));
}

export function parseDestination(input: unknown): DestinationConfig {
  const parsed = destinationConfigSchema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigValidationError(
      'Destination',
      parsed.error.issues.map((issue) => ({ path: ['destination', ...issue.path.map(String)].join('.'), message: issue.message })),
    );
  }
  return parsed.data;
}

/**
 * Problems a destination would cause with what is stored: an activation it would break, or
 * another destination on the same API key with another rate limit (they share one allowance).
 */
async function destinationConflicts(db: AppDb, destination: DestinationConfig): Promise<ConfigIssue[]> {
  const dependents = await db
    .selectFrom('app.activations')
    .select('config')
    .where('destination_id', '=', destination.id)
    .where('deleted_at', 'is', null)
    .execute();
  const issues = dependents.flatMap(({ config }) => {
    const activation = activationConfigSchema.parse(config);
    const resolved = resolveActivation(destination, activation);
    return resolved.ok ? [] : resolved.issues.map((issue) => ({ ...issue, path: `activation '${activation.id}': ${issue.path}` }));
  });
  for (const other of await listDestinations(db)) {
    if (other.id === destination.id || other.credentials.apiKeyEnv !== destination.credentials.apiKeyEnv) continue;
    if (other.rateLimit.calls !== destination.rateLimit.calls || other.rateLimit.perSeconds !== destination.rateLimit.perSeconds) {
      issues.push({
        path: 'destination.rateLimit',
        message: `destination '${other.id}' uses the same API key (${destination.credentials.apiKeyEnv}) with rateLimit ${other.rateLimit.calls}/${other.rateLimit.perSeconds}s; destinations sharing a key share one allowance, so give them the same rateLimit`,
      });
    }
  }
  return issues;
}

/** Validates and stores a destination; refuses a change that would break one of its activations. */
export async function saveDestination(db: AppDb, input: unknown): Promise<DestinationConfig> {
  const destination = parseDestination(input);
  const issues = await destinationConflicts(db, destination);
  if (issues.length > 0) throw new ConfigValidationError(`Destination '${destination.id}'`, issues);
  const config = JSON.stringify(destination);
  await db
    .insertInto('app.destinations')
    .values({ id: destination.id, config })
    .onConflict((oc) => oc.column('id').doUpdateSet({ config, updated_at: new Date(), deleted_at: null }))
    .execute();
  return destination;
}

/** Validates an activation against its destination (stored, or given), listing every problem at once. */
export async function parseActivation(db: AppDb, input: unknown, destinations: ReadonlyMap<string, unknown> = new Map()): Promise<ReturnType<typeof parseConfigs>> {
  const destinationId = typeof input === 'object' && input !== null && 'destinationId' in input ? String(input.destinationId) : undefined;
  let destination: unknown = destinationId === undefined ? {} : destinations.get(destinationId);
  if (destination === undefined && destinationId !== undefined) {
    const row = await db.selectFrom('app.destinations').select('config').where('id', '=', destinationId).where('deleted_at', 'is', null).executeTakeFirst();
    if (!row) {
      return {
        ok: false,
        issues: [
          {
            path: 'activation.destinationId',
            message: `destination '${destinationId}' does not exist (${knownIds([...new Set([...destinations.keys(), ...(await activeDestinationIds(db))])])}); define it in the same file or apply it first`,
          },
        ],
      };
    }
    destination = row.config;
  }
  return parseConfigs(destination ?? {}, input);
}

/** Validates an activation against its stored destination, listing every problem at once, and stores it. */
export async function saveActivation(db: AppDb, input: unknown): Promise<StoredActivation> {
  const result = await parseActivation(db, input);
  if (!result.ok) throw new ConfigValidationError('Activation', result.issues);
  const { destination, activation, resolved } = result;
  const previous = await db.selectFrom('app.activations').select(['config', 'deleted_at']).where('id', '=', activation.id).executeTakeFirst();
  const previousCursor = (previous?.config.cursor as { column?: string } | undefined)?.column;
  // A watermark belongs to its cursor column (and source): values of another column are not comparable.
  // So does it to its source and warehouse (a source saved before warehouses were named read the default one).
  const sameSource = (source: unknown) => JSON.stringify({ warehouse: 'default', ...(source as object) });
  const watermarkStillValid =
    previous?.deleted_at === null &&
    previousCursor === activation.cursor?.column &&
    sameSource(previous.config.source) === sameSource(activation.source);
  const config = JSON.stringify(activation);
  await db
    .insertInto('app.activations')
    .values({ id: activation.id, destination_id: destination.id, config })
    .onConflict((oc) =>
      oc.column('id').doUpdateSet({
        destination_id: destination.id,
        config,
        updated_at: new Date(),
        deleted_at: null,
        ...(watermarkStillValid ? {} : { watermark: null, last_full_scan_at: null }),
      }),
    )
    .execute();
  const stored = await db.selectFrom('app.activations').select(['watermark', 'paused_note']).where('id', '=', activation.id).executeTakeFirstOrThrow();
  return { destination, activation, resolved, watermark: watermarkText(stored.watermark), pausedNote: stored.paused_note };
}

export async function loadActivation(db: AppDb, id: string): Promise<StoredActivation> {
  const row = await db
    .selectFrom('app.activations')
    .innerJoin('app.destinations', 'app.destinations.id', 'app.activations.destination_id')
    .select(['app.activations.config as activation', 'app.destinations.config as destination', 'app.activations.watermark', 'app.activations.paused_note'])
    .where('app.activations.id', '=', id)
    .where('app.activations.deleted_at', 'is', null)
    .executeTakeFirst();
  if (!row) throw new NotFoundError(`Activation '${id}' does not exist (${knownIds(await activeActivationIds(db))})`);
  const result = parseConfigs(row.destination, row.activation);
  if (!result.ok) throw new ConfigValidationError(`Stored activation '${id}'`, result.issues);
  return {
    destination: result.destination,
    activation: result.activation,
    resolved: result.resolved,
    watermark: watermarkText(row.watermark),
    pausedNote: row.paused_note,
  };
}

export interface ActivationListing {
  id: string;
  destinationId: string;
  config: ActivationConfig;
  watermark: string | null;
  pausedNote: string | null;
}

export async function listActivations(db: AppDb): Promise<ActivationListing[]> {
  const rows = await db
    .selectFrom('app.activations')
    .select(['id', 'destination_id', 'config', 'watermark', 'paused_note'])
    .where('deleted_at', 'is', null)
    .orderBy('id')
    .execute();
  return rows.map((row) => ({
    id: row.id,
    destinationId: row.destination_id,
    config: activationConfigSchema.parse(row.config),
    watermark: watermarkText(row.watermark),
    pausedNote: row.paused_note,
  }));
}

/** The stored configuration as JSON, to tell whether applying a file changes anything; undefined when absent or deleted. */
export async function storedConfigs(db: AppDb): Promise<{ destinations: Map<string, string>; activations: Map<string, string> }> {
  const destinations = await db.selectFrom('app.destinations').select(['id', 'config']).where('deleted_at', 'is', null).execute();
  const activations = await db.selectFrom('app.activations').select(['id', 'config']).where('deleted_at', 'is', null).execute();
  return {
    destinations: new Map(destinations.map((row) => [row.id, JSON.stringify(destinationConfigSchema.parse(row.config))])),
    activations: new Map(activations.map((row) => [row.id, JSON.stringify(activationConfigSchema.parse(row.config))])),
  };
}

export async function setPausedNote(db: AppDb, activationId: string, note: string | null): Promise<void> {
  const result = await db
    .updateTable('app.activations')
    .set({ paused_note: note, updated_at: new Date() })
    .where('id', '=', activationId)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) throw new NotFoundError(`Activation '${activationId}' does not exist (${knownIds(await activeActivationIds(db))})`);
}

/**
 * Deletes an activation. By default its ledger is kept (the activation is only marked deleted):
 * applying an activation of the same id later resumes with it, so rows already sent are not sent
 * again. `purgeLedger` deletes the activation with its ledger and runs, for good.
 */
export async function deleteActivation(db: AppDb, id: string, options: { purgeLedger?: boolean } = {}): Promise<void> {
  const exists = await db.selectFrom('app.activations').select('id').where('id', '=', id).executeTakeFirst();
  if (!exists) throw new NotFoundError(`Activation '${id}' does not exist (${knownIds(await activeActivationIds(db))})`);
  if (options.purgeLedger) {
    await db.deleteFrom('app.activations').where('id', '=', id).execute();
    return;
  }
  await db.updateTable('app.activations').set({ deleted_at: new Date(), updated_at: new Date() }).where('id', '=', id).execute();
}

/** Deletes a destination that no activation uses any more. */
export async function deleteDestination(db: AppDb, id: string): Promise<void> {
  const exists = await db.selectFrom('app.destinations').select('id').where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
  if (!exists) throw new NotFoundError(`Destination '${id}' does not exist (${knownIds(await activeDestinationIds(db))})`);
  const users = await db.selectFrom('app.activations').select('id').where('destination_id', '=', id).where('deleted_at', 'is', null).execute();
  if (users.length > 0) {
    throw new ConfigValidationError(`Destination '${id}'`, [
      { path: 'destination', message: `is used by activation(s) ${users.map((row) => row.id).join(', ')}: delete them first` },
    ]);
  }
  // Kept, marked deleted, while deleted activations' ledgers still refer to it.
  await db.updateTable('app.destinations').set({ deleted_at: new Date(), updated_at: new Date() }).where('id', '=', id).execute();
}
