import { Context } from '@temporalio/activity';
import { readSecret } from '../trustpilot/credentials.ts';
import { toRunSummary } from '../db/runs.ts';
import { PublicError, formatRunLine, type AlertsConfig } from '../domain/index.ts';
import type { RunSummary } from '../run/types.ts';
import type { ActivityDeps } from './deps.ts';
import { recordRunFinished } from './metrics.ts';
import type { RunContext } from './run-context.ts';

export type AlertEvent = 'failed' | 'recovered' | 'rejected_share' | 'paused';

export interface AfterRunResult {
  alerts: AlertEvent[];
  paused: boolean;
}

/** One webhook body: generic JSON fields, plus `text`, which Slack's incoming webhooks display. */
export interface AlertBody {
  text: string;
  event: AlertEvent;
  activationId: string;
  destinationId: string;
  run: RunSummary;
}

const WEBHOOK_TIMEOUT_MS = 10_000;

function rejectedShare(run: RunSummary): number {
  const handled = run.sent + run.rejected + run.failed;
  return handled === 0 ? 0 : run.rejected / handled;
}

export function alertText(event: AlertEvent, run: RunSummary, pauseAfterFailures: number): string {
  const line = formatRunLine(run);
  switch (event) {
    case 'failed':
      return `:red_circle: Trustpilot invitations: run ${run.runId} of ${run.activationId} failed — ${run.error ?? 'no reason recorded'}\n${line}`;
    case 'recovered':
      return `:large_green_circle: Trustpilot invitations: ${run.activationId} recovered (run ${run.runId} succeeded)\n${line}`;
    case 'rejected_share':
      return `:warning: Trustpilot invitations: ${Math.round(rejectedShare(run) * 100)}% of the rows of run ${run.runId} of ${run.activationId} were rejected (see \`cli rows ${run.activationId} --status rejected\`)\n${line}`;
    case 'paused':
      return `:double_vertical_bar: Trustpilot invitations: ${run.activationId} was paused after ${pauseAfterFailures} runs in a row failed for configuration reasons; fix it, then \`cli resume ${run.activationId}\``;
  }
}

export function createAfterRunActivity(deps: ActivityDeps, context: RunContext) {
  const { db } = deps;

  /** Runs of the activation before this one that finished (skipped starts are not runs), newest first. */
  async function previousRuns(activationId: string, runId: number, limit: number) {
    return await db
      .selectFrom('app.runs')
      .selectAll()
      .where('activation_id', '=', activationId)
      .where('id', '<', runId)
      .where('status', 'in', ['succeeded', 'failed'])
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
  }

  async function post(url: string, body: AlertBody): Promise<void> {
    const response = await (deps.fetch ?? fetch)(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    });
    // The URL is a secret and the answer may echo it: only the status is reported.
    if (!response.ok) throw new PublicError(`the alert webhook answered ${response.status}`);
  }

  /**
   * After a run has finished: alerts (a failed run, a recovery, too many rejected rows) to the
   * configured webhook, and pausing an activation whose runs keep failing for configuration
   * reasons. Neither changes the run's outcome.
   */
  async function afterRun(input: { runId: number }): Promise<AfterRunResult> {
    // First of all: the run must be this worker's (its database's) and this workflow's.
    const { activation, destination } = await context.config(input.runId);
    const row = await db.selectFrom('app.runs').selectAll().where('id', '=', input.runId).executeTakeFirstOrThrow();
    const run = toRunSummary(row);
    if (run.status !== 'succeeded' && run.status !== 'failed') return { alerts: [], paused: false };
    if (run.finishedAt) recordRunFinished(activation.id, run.status, (Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000);
    const alerts: AlertEvent[] = [];
    const previous = await previousRuns(activation.id, run.runId, activation.pauseAfterFailures);

    if (run.status === 'failed') alerts.push('failed');
    else if (previous[0]?.status === 'failed') alerts.push('recovered');
    const threshold = (activation.alerts ?? destination.alerts)?.rejectedShareAbove;
    if (threshold !== undefined && rejectedShare(run) > threshold) alerts.push('rejected_share');

    let paused = false;
    const failingRuns = [row, ...previous].slice(0, activation.pauseAfterFailures);
    if (
      run.failureKind === 'misconfigured' &&
      failingRuns.length >= activation.pauseAfterFailures &&
      failingRuns.every((candidate) => candidate.status === 'failed' && candidate.failure_kind === 'misconfigured')
    ) {
      await deps.schedules.pause(
        activation.id,
        `paused after ${activation.pauseAfterFailures} runs in a row failed for configuration reasons (last: run ${run.runId}); fix it, then resume`,
      );
      paused = true;
      alerts.push('paused');
    }

    const config: AlertsConfig | undefined = activation.alerts ?? destination.alerts;
    if (config && alerts.length > 0) {
      const url = readSecret(config.webhookUrlEnv, deps.env);
      if (!url) throw new PublicError(`alerts are configured but ${config.webhookUrlEnv} is not set in the worker's environment`);
      for (const event of alerts) {
        Context.current().heartbeat();
        await post(url, { text: alertText(event, run, activation.pauseAfterFailures), event, activationId: activation.id, destinationId: destination.id, run });
      }
    }
    return { alerts, paused };
  }

  return { afterRun };
}
