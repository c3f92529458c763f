import { Context } from '@temporalio/activity';
import { CredentialsError, resolveCredentials } from '../trustpilot/credentials.ts';
import { recordFailure, recordRunDown, recordSent, takeForSending, type Taken } from '../db/ledger-sending.ts';
import { pacingKey } from '../db/pacing.ts';
import type { InvitationRequest } from '../domain/index.ts';
import { createTrustpilotClient, type TrustpilotClient, type TrustpilotCredentials } from '../trustpilot/index.ts';
import { backoffCeilingMs, HEARTBEAT_EVERY_MS, RECORD_SENT_RETRY } from '../run/policies.ts';
import type { SendInvitationInput, SendOutcome } from '../run/types.ts';
import type { ActivityDeps } from './deps.ts';
import { misconfigured, sendFailed, unavailable } from './failures.ts';
import { countInvitation } from './metrics.ts';
import { cachedPerRun, refuseOtherWorkflow, type RunConfig, type RunContext } from './run-context.ts';
import { decideSendOutcome, resultAfterRecording, type DecisionContext, type SendDecision, type SendResult, type StepOutcome } from './send-outcome.ts';
import { SendPacing, type PacedRun } from './send-pacing.ts';

/** What every send of a run needs, worked out once per run and process rather than per invitation. */
interface RunSending extends PacedRun {
  config: RunConfig;
  client: TrustpilotClient;
}

/**
 * The send activity: authenticate, wait for the call slot, take the row, call Trustpilot, record
 * the outcome. What each outcome means for the row and the run is decided in send-outcome.ts;
 * this file only carries the steps and the decision out.
 */
export function createSendActivity(deps: ActivityDeps, context: RunContext) {
  const pacing = new SendPacing(deps.db);

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
      destination: config.destination,
      activationId: config.activation.id,
    };
  });

  /** The access token comes first, so that a token request never delays a paced call into its neighbour's slot. */
  async function authenticate(activity: Context, run: RunSending): Promise<StepOutcome | undefined> {
    try {
      await run.client.authenticate({ signal: activity.cancellationSignal });
      return undefined;
    } catch (failure) {
      return { step: 'authenticate', failure };
    }
  }

  /** Moves the row to 'sending' in one statement, which also checks the run and its circuit breaker. */
  async function take(activity: Context, run: RunSending, input: SendInvitationInput): Promise<Taken> {
    return await takeForSending(deps.appPool, { ...input, attempt: activity.info.attempt, breakerLimit: run.destination.circuitBreaker.failuresInARow });
  }

  async function call(activity: Context, run: RunSending, payload: InvitationRequest): Promise<StepOutcome> {
    try {
      await run.client.createInvitation(run.config.resolved.businessUnitId, payload, { signal: activity.cancellationSignal });
      return { step: 'call', accepted: true };
    } catch (failure) {
      return { step: 'call', accepted: false, failure };
    }
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
        if (attempt >= RECORD_SENT_RETRY.maximumAttempts) throw error;
        activity.heartbeat();
        await activity.sleep(backoffCeilingMs(RECORD_SENT_RETRY, attempt));
      }
    }
  }

  /** Writes the decision to the ledger row and the metrics; returns the run's failures in a row after it. */
  async function record(activity: Context, run: RunSending, input: SendInvitationInput, decision: SendDecision): Promise<number> {
    const { ledger, metric } = decision;
    // A sent invitation is counted once the ledger holds it, as the run's summary counts it; a
    // failed call is counted whether or not its record lands.
    if (ledger?.status === 'sent') {
      await recordSentSurely(activity, input);
      if (metric) countInvitation(run.activationId, metric);
      return 0;
    }
    if (metric) countInvitation(run.activationId, metric);
    if (ledger) return await recordFailure(deps.appPool, input, ledger);
    return decision.runDown ? await recordRunDown(deps.appPool, input.runId) : 0;
  }

  async function send(input: SendInvitationInput, activity: Context): Promise<SendOutcome> {
    const run = await sendingFor(input.runId);
    // The run's configuration is cached per process: the check is made on every send, not only on the first.
    refuseOtherWorkflow(input.runId, run.config.workflowId);
    const decisionContext: DecisionContext = {
      entryId: input.entryId,
      activationId: run.activationId,
      attempt: activity.info.attempt,
      breakerLimit: run.destination.circuitBreaker.failuresInARow,
      random: Math.random,
    };
    const conclude = async (outcome: StepOutcome): Promise<SendOutcome> => {
      const decision = decideSendOutcome(outcome, decisionContext);
      return carryOut(resultAfterRecording(decision, await record(activity, run, input, decision)));
    };

    const unauthenticated = await authenticate(activity, run);
    if (unauthenticated) return await conclude(unauthenticated);
    const slot = await pacing.nextSlot(activity, run);
    const taken = await take(activity, run, input);
    if (taken.kind !== 'taken') return await conclude({ step: 'take', taken: taken.kind });
    await pacing.leaveAt(activity, run, slot);
    return await conclude(await call(activity, run, taken.payload));
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

/** Ends the activity as decided: Temporal reads a retry, or a run stopped, from the failure's type. */
function carryOut(result: SendResult): SendOutcome {
  switch (result.kind) {
    case 'return':
      return result.value;
    case 'retry':
      throw sendFailed(result.message, result.delayMs);
    case 'stop':
      throw result.failure === 'misconfigured' ? misconfigured(result.message) : unavailable(result.message);
    case 'rethrow':
      throw result.error;
  }
}
