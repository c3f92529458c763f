import { parseConfigs, type ActivationConfig, type DestinationConfig, type ResolvedActivation } from '../domain/index.ts';
import type { AppDb } from '../db/database.ts';
import { misconfigured } from './failures.ts';

export interface RunConfig {
  destination: DestinationConfig;
  activation: ActivationConfig;
  resolved: ResolvedActivation;
}

/** The configuration snapshot taken when the run started, cached per process (it never changes). */
export function createRunConfigCache(db: AppDb): (runId: number) => Promise<RunConfig> {
  const cache = new Map<number, Promise<RunConfig>>();
  return (runId) => {
    let entry = cache.get(runId);
    if (!entry) {
      entry = (async () => {
        const row = await db.selectFrom('app.runs').select('config').where('id', '=', runId).executeTakeFirstOrThrow();
        const parsed = parseConfigs(row.config.destination, row.config.activation);
        if (!parsed.ok) throw misconfigured(`Run ${runId} has an invalid configuration snapshot: ${parsed.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
        return { destination: parsed.destination, activation: parsed.activation, resolved: parsed.resolved };
      })();
      entry.catch(() => cache.delete(runId));
      cache.set(runId, entry);
      if (cache.size > 1000) cache.delete(cache.keys().next().value as number);
    }
    return entry;
  };
}
