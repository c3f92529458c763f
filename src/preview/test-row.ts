import { setTimeout as delay } from 'node:timers/promises';
import type pg from 'pg';
import { resolveCredentials } from '../trustpilot/credentials.ts';
import { recordFailure, recordSent, takeForSending } from '../db/ledger-sending.ts';
import { pacingKey, reserveSlots, slotIntervalMs } from '../db/pacing.ts';
import { CLI_RUN_PREFIX, finishRunRecord } from '../db/runs.ts';
import { maskInvitation, prepareRow, PublicError, type InvitationRequest } from '../domain/index.ts';
import { createTrustpilotClient, healthOf, isTrustpilotError, mayHaveBeenAccepted } from '../trustpilot/index.ts';
import { prepareActivation, sourceFailureOf, type PreviewDeps } from './source.ts';

export interface TestRowReport {
  activationId: string;
  rowKey: string;
  /** the row's ledger status before this command, or null when the row is new */
  ledgerStatus: string | null;
  valid: boolean;
  /** why the row cannot be sent (fields and rules, never values) */
  reasons: string[];
  /** the invitation, names and emails masked */
  payload: InvitationRequest | null;
  sent?: { runId: number; outcome: 'sent' | 'rejected' | 'failed'; status?: number; invitationId?: string; reason?: string };
}

export interface TestRowDeps extends PreviewDeps {
  appPool: pg.Pool;
  env: NodeJS.ProcessEnv;
  trustpilot: { apiUrl: string; invitationsApiUrl: string };
}

/**
 * Reads one row by key, builds and validates its invitation, and with `send` sends exactly that
 * invitation. The send is a run of its own (it takes the run lock, so it never overlaps a run)
 * and is recorded in the ledger as any run would: a row sent here is never sent again.
 */
export async function testRow(deps: TestRowDeps, activationId: string, rowKey: string, options: { send: boolean }): Promise<TestRowReport> {
  const { stored, source, shape, limits } = await prepareActivation(deps, activationId);
  let rows;
  try {
    rows = await source.readRows(shape, [rowKey], limits);
  } catch (error) {
    throw sourceFailureOf(error, stored.activation, source);
  }
  const row = rows.get(rowKey);
  if (!row) throw new PublicError(`No row of activation '${activationId}' has the key ${rowKey} (a composite key is a JSON array of texts, e.g. ["A-1","2"])`);
  const ledger = await deps.db.selectFrom('app.ledger').select(['status']).where('activation_id', '=', activationId).where('row_key', '=', rowKey).executeTakeFirst();
  const prepared = prepareRow(row, stored.resolved);
  const report: TestRowReport = {
    activationId,
    rowKey,
    ledgerStatus: ledger?.status ?? null,
    valid: prepared.status === 'pending',
    reasons: prepared.status === 'rejected' ? prepared.reason.split('; ') : [],
    payload: prepared.status === 'pending' ? maskInvitation(prepared.payload) : null,
  };
  if (!options.send) return report;
  if (prepared.status !== 'pending') throw new PublicError(`Row ${rowKey} is not valid, so it is not sent: ${report.reasons.join('; ')}`);
  if (ledger?.status === 'sent') throw new PublicError(`Row ${rowKey} was already sent; a row is never sent twice`);
  if (ledger?.status === 'sending') throw new PublicError(`Row ${rowKey} is being sent by a run right now`);

  const runId = await openTestRun(deps, stored.destination, stored.activation);
  try {
    await deps.db
      .insertInto('app.ledger')
      .values({
        activation_id: activationId,
        row_key: rowKey,
        status: 'pending',
        fingerprint: prepared.fingerprint,
        payload: JSON.stringify(prepared.payload),
        first_run_id: runId,
        last_run_id: runId,
      })
      .onConflict((oc) =>
        oc.columns(['activation_id', 'row_key']).doUpdateSet({
          status: 'pending',
          fingerprint: prepared.fingerprint,
          payload: JSON.stringify(prepared.payload),
          last_run_id: runId,
          error_class: null,
          error_message: null,
          updated_at: new Date(),
        }),
      )
      .execute();
    const entry = await deps.db.selectFrom('app.ledger').select('id').where('activation_id', '=', activationId).where('row_key', '=', rowKey).executeTakeFirstOrThrow();
    report.sent = { runId, ...(await sendOne(deps, stored.destination, stored.resolved.businessUnitId, stored.activation.id, { runId, entryId: entry.id })) };
    return report;
  } finally {
    const outcome = report.sent?.outcome === 'failed' ? 'failed' : 'succeeded';
    await finishRunRecord(deps.db, { runId, outcome, ...(outcome === 'failed' ? { error: report.sent?.reason ?? 'the call failed', failureKind: 'transient' } : {}) });
  }
}

async function openTestRun(deps: TestRowDeps, destination: unknown, activation: { id: string }): Promise<number> {
  try {
    const run = await deps.db
      .insertInto('app.runs')
      .values({
        activation_id: activation.id,
        workflow_id: `${CLI_RUN_PREFIX}-${new Date().toISOString()}`,
        status: 'running',
        config: JSON.stringify({ destination, activation }),
        detected: true,
        full_scan: false,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return run.id;
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === '23505') {
      throw new PublicError(`A run of '${activation.id}' is in progress; try again when it has finished (see \`runs ${activation.id}\`)`);
    }
    throw error;
  }
}

async function sendOne(
  deps: TestRowDeps,
  destination: Parameters<typeof resolveCredentials>[0],
  businessUnitId: string,
  activationId: string,
  target: { runId: number; entryId: number },
): Promise<{ outcome: 'sent' | 'rejected' | 'failed'; status?: number; invitationId?: string; reason?: string }> {
  const credentials = resolveCredentials(destination, deps.env);
  const client = createTrustpilotClient({ ...deps.trustpilot, credentials });
  await client.authenticate();
  const slot = await reserveSlots(deps.db, pacingKey(deps.trustpilot.apiUrl, credentials.apiKey), slotIntervalMs(destination.rateLimit));
  await delay(Math.max(0, slot - Date.now()));
  const taken = await takeForSending(deps.appPool, { ...target, attempt: 1, breakerLimit: destination.circuitBreaker.failuresInARow });
  if (taken.kind !== 'taken') throw new PublicError(`Row of activation '${activationId}' could not be taken for sending (${taken.kind})`);
  try {
    const answer = await client.createInvitation(businessUnitId, taken.payload);
    await recordSent(deps.appPool, target);
    return { outcome: 'sent', status: answer.status, ...(answer.id ? { invitationId: answer.id } : {}) };
  } catch (error) {
    if (!isTrustpilotError(error)) {
      await recordFailure(deps.appPool, target, { status: 'failed', errorClass: 'interrupted', message: 'the call was interrupted', inDoubt: true, health: 'unknown' });
      throw error;
    }
    const rejected = error.kind === 'rejected';
    await recordFailure(deps.appPool, target, {
      status: rejected ? 'rejected' : 'failed',
      errorClass: rejected ? 'rejected_by_trustpilot' : error.kind,
      message: error.message,
      inDoubt: mayHaveBeenAccepted(error),
      health: healthOf(error),
    });
    return { outcome: rejected ? 'rejected' : 'failed', ...(error.status !== undefined ? { status: error.status } : {}), reason: error.hint ? `${error.message}. ${error.hint}` : error.message };
  }
}
