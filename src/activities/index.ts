import { createClaimActivity } from './claim.ts';
import type { ActivityDeps } from './deps.ts';
import { createRunConfigCache } from './run-config.ts';
import { createRunActivities } from './runs.ts';
import { createSendActivity } from './send.ts';

export type { ActivityDeps } from './deps.ts';

export function createActivities(deps: ActivityDeps) {
  const runConfig = createRunConfigCache(deps.db);
  return {
    ...createRunActivities(deps),
    ...createClaimActivity(deps, runConfig),
    ...createSendActivity(deps, runConfig),
  };
}

export type Activities = ReturnType<typeof createActivities>;
