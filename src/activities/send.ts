import { ApplicationFailure, Context } from '@temporalio/activity';
import { CredentialsError, resolveCredentials } from '../trustpilot/credentials.ts';
import { recordFailure, recordSent, takeForSending } from '../db/ledger-sending.ts';
import { Pacer, lateToleranceMs, pacingKey, slotIntervalMs } from '../db/pacing.ts';
import {
  createTrustpilotClient,
  healthOf,
  isTrustpilotError,
  mayHaveBeenAccepted,
  type TrustpilotClient,
  type TrustpilotCredentials,
  type TrustpilotError,
} from '../trustpilot/index.ts';
import { HEARTBEAT_EVERY_MS, sendBackoffMs } from '../run/policies.ts';
import { SEND_FAILED_FAILURE, type SendInvitationInput, type SendOutcome } from '../run/types.ts';
import type { ActivityDeps } from './deps.ts';
import { misconfigured, unavailable } from './failures.ts';
import { LiveRateLimits } from './live-rate-limits.ts';
import { countInvitation, recordPacingWait } from './metrics.ts';
import { cachedPerRun, refuseOtherWorkflow, type RunConfig, type RunContext } from './run-context.ts';

/** Time to move the row to 'sending' before the slot, so the call itself leaves exactly on it. */
const LEDGER_WRITE_ALLOWANCE_MS = 50;
// 250 ms doubling to 5 s: about a minute of database outage.
const RECORD_SENT_ATTEMPTS = 16;

/** What every send of a run needs, worked out once per run and process rather than per invitation. */
interface RunSending {
  config: RunConfig;
  client: TrustpilotClient;
  pacingKey: string;
}

/** The spacing of calls under a rate limit. */
interface Pace {
  intervalMs: number;
  lateToleranceMs: number;
}

function paceOf(rateLimit: { calls: number; perSeconds: number }): Pace {
  return { intervalMs: slotIntervalMs(rateLimit), lateToleranceMs: lateToleranceMs(rateLimit) };
}

/**
 * Sleeps until `time`, heartbeating: with many activations on one API key a slot can be far off.
 * Stops early (returning false) when `stillValid` says the slot no longer holds.
 */
async function sleepUntil(context: Context, time: number, stillValid?: () => Promise<boolean>): Promise<boolean> {
  for (let wait = time - Date.now(); wait > 0; wait = time - Date.now()) {
    await context.sleep(Math.min(wait, HEARTBEAT_EVERY_MS));
    context.heartbeat();
    if (stillValid && time - Date.now() > 0 && !(await stillValid())) return false;
  }
  return true;
}

export function createSendActivity(deps: ActivityDeps, context: RunContext) {
  const { db } = deps;
  const pacer = new Pacer(db);
  const rateLimits = new LiveRateLimits(db);

  function credentialsFor(config: RunConfig): TrustpilotCredentials {
    try {
      return resolveCredentials(config.destination, deps.env);
    } catch (error) {
      if (error instanceof CredentialsError) throw misconfigured(error.message);
      throw error;
    }
  }

  const sendingFor = cachedPerRun(async (runId): Promise<RunSending> => {
    const config = await context.config(runId);
    const credentials = credentialsFor(config);
    return {
      config,
      // One client per run and process; the token is shared across clients by the process-wide token cache.
      client: createTrustpilotClient({ ...deps.trustpilot, credentials }),
      pacingKey: pacingKey(deps.trustpilot.apiUrl, credentials.apiKey),
    };
  });

  /**
   * The next call slot under the destination's current rate limit. A slot far ahead is given up
   * for a nearer one when the limit is raised meanwhile: a run paced at one call a minute speeds
   * up within seconds of the change, not after the slots it had already queued.
   */
  async function nextSlot(activity: Context, run: RunSending): Promise<{ slot: number; pace: Pace }> {
    for (;;) {
      const pace = paceOf(await rateLimits.of(run.config.destination));
      const slot = await pacer.nextSlot(run.pacingKey, pace.intervalMs);
      recordPacingWait(run.config.activation.id, slot - Date.now());
      // Wake a little early to write the ledger, then leave exactly at the slot: what arrives at
      // Trustpilot keeps the spacing the pacer gave, whatever the database's latency.
      const raised = async () => paceOf(await rateLimits.of(run.config.destination)).intervalMs >= pace.intervalMs;
      if (await sleepUntil(activity, slot - LEDGER_WRITE_ALLOWANCE_MS, raised)) return { slot, pace };
    }
  }

  /** How a Trustpilot failure steers Temporal: stop the run, or retry after Retry-After / backoff. */
  function retryOrStop(error: TrustpilotError, attempt: number): ApplicationFailure {
    if (error.kind === 'misconfigured') return misconfigured(error.hint ? `${error.message}. ${error.hint}` : error.message);
    return ApplicationFailure.create({
      message: error.message,
      type: SEND_FAILED_FAILURE,
      nextRetryDelay: error.retryAfterMs ?? sendBackoffMs(attempt, Math.random),
    });
  }

  /**
   * Trustpilot has accepted the invitation: losing this write would send it again on retry.
   * So it is retried here, through a database restart or failover, for as long as the
   * activity's heartbeat allows, instead of failing the attempt at the first error.
   */
  async function recordSentSurely(activity: Context, input: SendInvitationInput): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await recordSent(deps.appPool, input);
        return;
      } catch (error) {
        if (attempt >= RECORD_SENT_ATTEMPTS) throw error;
        activity.heartbeat();
        await activity.sleep(Math.min(5_000, 250 * 2 ** (attempt - 1)));
      }
    }
  }

  async function send(input: SendInvitationInput, activity: Context): Promise<SendOutcome> {
    const run = await sendingFor(input.runId);
    refuseOtherWorkflow(input.runId, run.config.workflowId);
    const { config, client } = run;
    const { destination, resolved } = config;
    try {
      await client.authenticate({ signal: activity.cancellationSignal });
    } catch (error) {
      // Nothing was sent: the ledger row keeps its state; only the run's reaction differs.
      throw isTrustpilotError(error) ? retryOrStop(error, activity.info.attempt) : error;
    }

    const next = await nextSlot(activity, run);
    const { pace } = next;
    let { slot } = next;

    const breakerLimit = destination.circuitBreaker.failuresInARow;
    const taken = await takeForSending(deps.appPool, { ...input, attempt: activity.info.attempt, breakerLimit });
    switch (taken.kind) {
      case 'already_sent':
      case 'not_sendable':
        return taken.kind;
      case 'breaker_open':
        throw unavailable(breakerReason(config, breakerLimit));
      case 'contended':
        throw ApplicationFailure.create({
          message: `Ledger entry ${input.entryId} is being sent by another attempt; checking it again`,
          type: SEND_FAILED_FAILURE,
          nextRetryDelay: '5 seconds',
        });
    }
    await sleepUntil(activity, slot);
    // Woken too late (a busy machine): leave at a new slot rather than bunch with the next calls.
    // The row is 'sending' during that wait, the one case where a wait falls in the in-doubt window.
    while (Date.now() - slot > pace.lateToleranceMs) {
      slot = await pacer.nextSlot(run.pacingKey, pace.intervalMs);
      await sleepUntil(activity, slot);
    }

    try {
      await client.createInvitation(resolved.businessUnitId, taken.payload, { signal: activity.cancellationSignal });
    } catch (error) {
      if (!isTrustpilotError(error)) {
        // Cancelled mid-call (the run was stopped, or the activity timed out): the call may have gone through.
        await recordFailure(deps.appPool, input, { status: 'failed', errorClass: 'interrupted', message: 'the call was interrupted', inDoubt: true, health: 'unknown' });
        throw error;
      }
      if (error.kind === 'rejected') {
        countInvitation(config.activation.id, 'rejected');
        await recordFailure(deps.appPool, input, { status: 'rejected', errorClass: 'rejected_by_trustpilot', message: error.message, inDoubt: false, health: 'answered' });
        return 'rejected';
      }
      // A misconfigured activation leaves the row itself fine: it is kept for the next run.
      const health = healthOf(error);
      const inDoubt = mayHaveBeenAccepted(error);
      countInvitation(config.activation.id, inDoubt ? 'in_doubt' : 'failed');
      const inARow = await recordFailure(deps.appPool, input, {
        status: 'failed',
        errorClass: error.kind,
        message: error.message,
        inDoubt,
        health,
      });
      if (health === 'down' && inARow >= breakerLimit) throw unavailable(`${breakerReason(config, breakerLimit)}; the last: ${error.message}`);
      throw retryOrStop(error, activity.info.attempt);
    }

    await recordSentSurely(activity, input);
    countInvitation(config.activation.id, 'sent');
    return 'sent';
  }

  /**
   * Sends one ledger entry's invitation. The ledger is written before and after the call, so a
   * retried or replayed attempt that finds 'sent' does nothing.
   */
  async function sendInvitation(input: SendInvitationInput): Promise<SendOutcome> {
    const activity = Context.current();
    // Heartbeat all along (token, pacing wait, the call itself): a worker that dies is noticed
    // within the short heartbeat timeout, while a live but slow call is never timed out by it.
    const heartbeats = setInterval(() => activity.heartbeat(), HEARTBEAT_EVERY_MS);
    try {
      return await send(input, activity);
    } finally {
      clearInterval(heartbeats);
    }
  }

  return { sendInvitation };
}

function breakerReason(config: RunConfig, limit: number): string {
  return `Trustpilot failed ${limit} times in a row for activation '${config.activation.id}' (server errors, timeouts or lost connections): sending stopped; the unsent rows wait for the next run`;
}
