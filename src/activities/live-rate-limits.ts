import type { AppDb } from '../db/database.ts';
import { rateLimitSchema, type DestinationConfig } from '../domain/index.ts';

type RateLimit = DestinationConfig['rateLimit'];

/** How stale a rate limit may be: a change reaches runs already going within about this long. */
const REFRESH_MS = 5_000;

/**
 * A destination's rate limit as it is stored now, not as the run's configuration snapshot had it:
 * a limit raised (or lowered) by `apply` paces the sends of a run already going within seconds.
 * Everything else a run uses stays as it was when the run started.
 */
export class LiveRateLimits {
  private readonly cache = new Map<string, { at: number; value: Promise<RateLimit> }>();

  constructor(private readonly db: AppDb) {}

  async of(destination: DestinationConfig): Promise<RateLimit> {
    const cached = this.cache.get(destination.id);
    if (cached && Date.now() - cached.at < REFRESH_MS) return await cached.value;
    const value = this.load(destination);
    this.cache.set(destination.id, { at: Date.now(), value });
    return await value;
  }

  private async load(destination: DestinationConfig): Promise<RateLimit> {
    try {
      const row = await this.db
        .selectFrom('app.destinations')
        .select('config')
        .where('id', '=', destination.id)
        .where('deleted_at', 'is', null)
        .executeTakeFirst();
      const stored = rateLimitSchema.safeParse(row?.config.rateLimit);
      return stored.success ? stored.data : destination.rateLimit;
    } catch {
      // The snapshot's limit is a safe answer while the database cannot give the current one.
      return destination.rateLimit;
    }
  }
}
