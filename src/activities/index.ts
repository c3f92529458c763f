import { createAfterRunActivity } from './after-run.ts';
import { createClaimActivity } from './claim.ts';
import type { ActivityDeps } from './deps.ts';
import { createDetectActivity } from './detect.ts';
import { createRunContext } from './run-context.ts';
import { createRunActivities } from './runs.ts';
import { createSendActivity } from './send.ts';

export type { ActivityDeps, ScheduleControl, TrustpilotEndpoints } from './deps.ts';

export function createActivities(deps: ActivityDeps) {
  const context = createRunContext(deps.db, deps.warehouses);
  return {
    ...createRunActivities(deps),
    ...createDetectActivity(deps, context),
    ...createClaimActivity(deps, context, deps.claimBatchSize),
    ...createSendActivity(deps, context),
    ...createAfterRunActivity(deps, context),
  };
}

export type Activities = ReturnType<typeof createActivities>;
