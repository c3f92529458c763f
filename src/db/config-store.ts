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
import type { AppDb } from './database.ts';
import type { Json } from './schema.ts';

export class ConfigValidationError extends Error {
  override readonly name = 'ConfigValidationError';
  constructor(
    readonly subject: string,
    readonly issues: ConfigIssue[],
  ) {
    super(`${subject} is invalid:\n${issues.map((issue) => `  - ${issue.path}: ${issue.message}`).join('\n')}`);
  }
}

export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
}

export interface StoredActivation {
  destination: DestinationConfig;
  activation: ActivationConfig;
  resolved: ResolvedActivation;
  watermark: string | null;
}

export async function getDestination(db: AppDb, id: string): Promise<DestinationConfig> {
  const row = await db.selectFrom('app.destinations').select('config').where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError(`Destination '${id}' does not exist`);
  return destinationConfigSchema.parse(row.config);
}

/** Validates and stores a destination; refuses a change that would break one of its activations. */
export async function saveDestination(db: AppDb, input: unknown): Promise<DestinationConfig> {
  const parsed = destinationConfigSchema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigValidationError('Destination', parsed.error.issues.map((issue) => ({
      path: ['destination', ...issue.path.map(String)].join('.'),
      message: issue.message,
    })));
  }
  const destination = parsed.data;
  return await db.transaction().execute(async (trx) => {
    const dependents = await trx.selectFrom('app.activations').select('config').where('destination_id', '=', destination.id).execute();
    const issues = dependents.flatMap(({ config }) => {
      const activation = activationConfigSchema.parse(config);
      const resolved = resolveActivation(destination, activation);
      return resolved.ok ? [] : resolved.issues.map((issue) => ({ ...issue, path: `activation '${activation.id}': ${issue.path}` }));
    });
    if (issues.length > 0) throw new ConfigValidationError(`Destination '${destination.id}'`, issues);
    await trx
      .insertInto('app.destinations')
      .values({ id: destination.id, config: JSON.stringify(destination) })
      .onConflict((oc) => oc.column('id').doUpdateSet({ config: JSON.stringify(destination), updated_at: new Date() }))
      .execute();
    return destination;
  });
}

/** Validates an activation against its stored destination, listing every problem at once, and stores it. */
export async function saveActivation(db: AppDb, input: unknown): Promise<StoredActivation> {
  const destinationId =
    typeof input === 'object' && input !== null && 'destinationId' in input ? String(input.destinationId) : undefined;
  const destinationRow = destinationId
    ? await db.selectFrom('app.destinations').select('config').where('id', '=', destinationId).executeTakeFirst()
    : undefined;
  if (destinationId && !destinationRow) {
    throw new ConfigValidationError('Activation', [
      { path: 'activation.destinationId', message: `destination '${destinationId}' does not exist; save it first` },
    ]);
  }
  const result = parseConfigs(destinationRow?.config ?? {}, input);
  if (!result.ok) throw new ConfigValidationError('Activation', result.issues);
  const { destination, activation, resolved } = result;
  const previous = await db.selectFrom('app.activations').select('config').where('id', '=', activation.id).executeTakeFirst();
  const previousCursor = (previous?.config.cursor as { column?: string } | undefined)?.column;
  // A watermark belongs to its cursor column (and source): values of another column are not comparable.
  const watermarkStillValid =
    previousCursor === activation.cursor?.column && JSON.stringify(previous?.config.source) === JSON.stringify(activation.source);
  await db
    .insertInto('app.activations')
    .values({ id: activation.id, destination_id: destination.id, config: JSON.stringify(activation) })
    .onConflict((oc) =>
      oc.column('id').doUpdateSet({
        destination_id: destination.id,
        config: JSON.stringify(activation),
        updated_at: new Date(),
        ...(watermarkStillValid ? {} : { watermark: null }),
      }),
    )
    .execute();
  const stored = await db.selectFrom('app.activations').select('watermark').where('id', '=', activation.id).executeTakeFirstOrThrow();
  return { destination, activation, resolved, watermark: watermarkText(stored.watermark) };
}

export async function loadActivation(db: AppDb, id: string): Promise<StoredActivation> {
  const row = await db
    .selectFrom('app.activations')
    .innerJoin('app.destinations', 'app.destinations.id', 'app.activations.destination_id')
    .select(['app.activations.config as activation', 'app.destinations.config as destination', 'app.activations.watermark'])
    .where('app.activations.id', '=', id)
    .executeTakeFirst();
  if (!row) throw new NotFoundError(`Activation '${id}' does not exist`);
  const result = parseConfigs(row.destination, row.activation);
  if (!result.ok) throw new ConfigValidationError(`Stored activation '${id}'`, result.issues);
  return { destination: result.destination, activation: result.activation, resolved: result.resolved, watermark: watermarkText(row.watermark) };
}

export async function listActivations(db: AppDb): Promise<{ id: string; destinationId: string; config: ActivationConfig; watermark: string | null }[]> {
  const rows = await db.selectFrom('app.activations').select(['id', 'destination_id', 'config', 'watermark']).orderBy('id').execute();
  return rows.map((row) => ({
    id: row.id,
    destinationId: row.destination_id,
    config: activationConfigSchema.parse(row.config),
    watermark: watermarkText(row.watermark),
  }));
}

export function watermarkText(value: Json | null): string | null {
  return value === null || value === undefined ? null : typeof value === 'string' ? value : JSON.stringify(value);
}
