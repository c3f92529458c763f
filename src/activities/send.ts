import { ApplicationFailure, Context } from '@temporalio/activity';
import type { InvitationRequest } from '../domain/index.ts';
import {
  createTrustpilotClient,
  isTrustpilotError,
  type TrustpilotClient,
  type TrustpilotCredentials,
  type TrustpilotError,
} from '../trustpilot/index.ts';
import { SEND_FAILED_FAILURE, type SendInvitationInput, type SendOutcome } from '../workflows/types.ts';
import { resolveCredentials } from './credentials.ts';
import type { ActivityDeps } from './deps.ts';
import { misconfigured } from './failures.ts';
import { pacingKey, reserveSlot, slotIntervalMs } from './pacing.ts';
import type { RunConfig } from './run-config.ts';

const BACKOFF_BASE_MS = 2_000;
const LEDGER_WRITE_ALLOWANCE_MS = 50;
// 250 ms doubling to 5 s: about a minute of database outage.
const RECORD_SENT_ATTEMPTS = 16;
/** well under the heartbeat timeout of sendInvitation (src/workflows/activation-run.ts) */
const HEARTBEAT_EVERY_MS = 5_000;

/** Sleeps until `time`, heartbeating: with many activations on one API key a slot can be far off. */
async function sleepUntil(context: Context, time: number): Promise<void> {
  for (let wait = time - Date.now(); wait > 0; wait = time - Date.now()) {
    await context.sleep(Math.min(wait, HEARTBEAT_EVERY_MS));
    context.heartbeat();
  }
}
const BACKOFF_MAX_MS = 60_000;

/** Exponential backoff with full jitter, so that many rows failing together do not retry in lockstep. */
export function backoffDelayMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

// Failures that prove the request never reached Trustpilot's invitation service.
const NEVER_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * Whether a failed call may nevertheless have created the invitation: a lost connection or a
 * timeout after sending, or a 5xx from a gateway in front of the service. A 429 was refused
 * before any work, and a refused connection never carried the request.
 */
export function mayHaveBeenAccepted(error: TrustpilotError): boolean {
  if (error.status !== undefined) return error.status >= 500;
  return !(error.errorCode !== undefined && NEVER_SENT_CODES.has(error.errorCode));
}

/** How a Trustpilot failure steers Temporal: stop the run, or retry after Retry-After / backoff. */
function asActivityFailure(error: TrustpilotError, attempt: number): ApplicationFailure {
  if (error.kind === 'misconfigured') return misconfigured(error.hint ? `${error.message}. ${error.hint}` : error.message);
  return ApplicationFailure.create({
    message: error.message,
    type: SEND_FAILED_FAILURE,
    nextRetryDelay: error.retryAfterMs ?? backoffDelayMs(attempt),
  });
}

export function createSendActivity(deps: ActivityDeps, runConfig: (runId: number) => Promise<RunConfig>) {
  const { db } = deps;
  const clients = new Map<string, TrustpilotClient>();

  function clientFor(credentials: TrustpilotCredentials): TrustpilotClient {
    const user = credentials.grant === 'password' ? credentials.username : credentials.businessUserId;
    const key = [deps.trustpilot.apiUrl, deps.trustpilot.invitationsApiUrl, credentials.grant, credentials.apiKey, user].join('\n');
    let client = clients.get(key);
    if (!client) {
      client = createTrustpilotClient({ ...deps.trustpilot, credentials });
      clients.set(key, client);
    }
    return client;
  }

  /**
   * Sends one ledger entry's invitation. The ledger is written before and after the call, so a
   * retried or replayed attempt that finds 'sent' does nothing.
   */
  async function sendInvitation(input: SendInvitationInput): Promise<SendOutcome> {
    const context = Context.current();
    // Heartbeat all along (token, pacing wait, the call itself): a worker that dies is noticed
    // within the short heartbeat timeout, while a live but slow call is never timed out by it.
    const heartbeats = setInterval(() => context.heartbeat(), HEARTBEAT_EVERY_MS);
    try {
      return await sendWithContext(input, context);
    } finally {
      clearInterval(heartbeats);
    }
  }

  async function sendWithContext(input: SendInvitationInput, context: Context): Promise<SendOutcome> {
    const entry = await db
      .selectFrom('app.ledger')
      .select(['id', 'status', 'payload', 'attempts'])
      .where('id', '=', input.entryId)
      .executeTakeFirstOrThrow();
    if (entry.status === 'sent') return 'already_sent';
    if (entry.status !== 'pending' && entry.status !== 'failed' && entry.status !== 'sending') return 'not_sendable';
    if (!entry.payload) throw misconfigured(`Ledger entry ${entry.id} has no payload to send`);

    const { destination, resolved } = await runConfig(input.runId);
    const credentials = resolveCredentials(destination, deps.env);
    const client = clientFor(credentials);
    try {
      await client.authenticate({ signal: context.cancellationSignal });
    } catch (error) {
      // Nothing was sent: the ledger row keeps its state; only the run's reaction differs.
      throw isTrustpilotError(error) ? asActivityFailure(error, context.info.attempt) : error;
    }

    const slot = await reserveSlot(db, pacingKey(deps.trustpilot.apiUrl, credentials.apiKey), slotIntervalMs(destination.rateLimit));
    // Wake a little early to write the ledger, then leave exactly at the slot: what arrives at
    // Trustpilot keeps the spacing the pacer gave, whatever the database's latency.
    await sleepUntil(context, slot - LEDGER_WRITE_ALLOWANCE_MS);
    context.heartbeat();

    // 'sending' marks the one window for a duplicate: if this process dies before the result is
    // written, the next attempt finds 'sending' and knows the call may already have gone through.
    // Compare-and-set: an attempt Temporal already gave up on may still be waiting for its slot;
    // whichever moves the row first sends, the other backs off and re-reads the row.
    const moved = await db
      .updateTable('app.ledger')
      .set((eb) => ({
        status: 'sending',
        attempts: eb('attempts', '+', 1),
        in_doubt: entry.status === 'sending' ? true : eb.ref('in_doubt'),
        updated_at: new Date(),
      }))
      .where('id', '=', entry.id)
      .where('status', '=', entry.status)
      .where('attempts', '=', entry.attempts)
      .executeTakeFirst();
    if (Number(moved.numUpdatedRows) === 0) {
      throw ApplicationFailure.create({
        message: `Ledger entry ${entry.id} was taken by another attempt; checking it again`,
        type: SEND_FAILED_FAILURE,
        nextRetryDelay: '5 seconds',
      });
    }
    await sleepUntil(context, slot);

    try {
      await client.createInvitation(resolved.businessUnitId, entry.payload as unknown as InvitationRequest, {
        signal: context.cancellationSignal,
      });
    } catch (error) {
      if (!isTrustpilotError(error)) {
        // Cancelled mid-call (the run was stopped, or the activity timed out): the call may have gone through.
        await recordFailure(entry.id, 'failed', 'interrupted', error instanceof Error ? error.message : String(error), true);
        throw error;
      }
      if (error.kind === 'rejected') {
        await recordFailure(entry.id, 'rejected', 'rejected_by_trustpilot', error.message, false);
        return 'rejected';
      }
      // A misconfigured activation leaves the row itself fine: it is kept for the next run.
      await recordFailure(entry.id, 'failed', error.kind, error.message, error.kind === 'retryable' && mayHaveBeenAccepted(error));
      throw asActivityFailure(error, context.info.attempt);
    }

    await recordSent(context, entry.id);
    return 'sent';
  }

  /**
   * Trustpilot has accepted the invitation: losing this write would send it again on retry.
   * So it is retried here, through a database restart or failover, for as long as the
   * activity's heartbeat allows, instead of failing the attempt at the first error.
   */
  async function recordSent(context: Context, entryId: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await db
          .updateTable('app.ledger')
          .set({ status: 'sent', sent_at: new Date(), payload: null, error_class: null, error_message: null, updated_at: new Date() })
          .where('id', '=', entryId)
          .where('status', '=', 'sending')
          .execute();
        return;
      } catch (error) {
        if (attempt >= RECORD_SENT_ATTEMPTS) throw error;
        context.heartbeat();
        await context.sleep(Math.min(5_000, 250 * 2 ** (attempt - 1)));
      }
    }
  }

  async function recordFailure(
    entryId: number,
    status: 'failed' | 'rejected',
    errorClass: string,
    message: string,
    outcomeUnknown: boolean,
  ): Promise<void> {
    await db
      .updateTable('app.ledger')
      .set((eb) => ({
        status,
        error_class: errorClass,
        error_message: message,
        in_doubt: outcomeUnknown ? true : eb.ref('in_doubt'),
        updated_at: new Date(),
      }))
      .where('id', '=', entryId)
      .where('status', '=', 'sending')
      .execute();
    if (status === 'rejected') {
      // A rejected row is never sent again with this content; its personal data need not stay.
      await db.updateTable('app.ledger').set({ payload: null }).where('id', '=', entryId).execute();
    }
  }

  return { sendInvitation };
}
