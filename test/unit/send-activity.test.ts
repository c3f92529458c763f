import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClaimActivity } from '../../src/activities/claim.ts';
import { createRunContext } from '../../src/activities/run-context.ts';
import { createSendActivity } from '../../src/activities/send.ts';
import { FAKE_DEFAULTS, startFakeTrustpilot, type FakeTrustpilot } from '../../src/fake-trustpilot/server.ts';
import { OTHER_DEPLOYMENT_FAILURE, SEND_FAILED_FAILURE, UNAVAILABLE_FAILURE } from '../../src/run/types.ts';
import type { WarehouseLookup } from '../../src/source/types.ts';
import { activityDeps, fakeAppDb, FakeLedger, fakeRunContext, runConfig, scriptedInvitationsHost, type ScriptedHost } from './activity-fakes.ts';

/**
 * The send activity as Temporal runs it (its context: attempt, workflow, cancellation, heartbeats),
 * over a fake ledger and a scripted Trustpilot: what the integration tests cannot provoke at will,
 * a cancellation landing mid-call or before the row was taken, a task of another workflow after the
 * run's configuration was cached, a `sent` record failing after Trustpilot accepted.
 */

const RUN_ID = 41;
const ENTRY_ID = 1_001;
const OWN_WORKFLOW = 'activation-orders-run';
const INVITATION = { consumerEmail: 'ada@shop.example.com', consumerName: 'Ada', referenceNumber: 'R-1', type: 'email' } as const;
const CREDENTIALS_ENV = { TRUSTPILOT_API_KEY: FAKE_DEFAULTS.apiKey, TRUSTPILOT_API_SECRET: FAKE_DEFAULTS.apiSecret, TRUSTPILOT_BUSINESS_USER_ID: FAKE_DEFAULTS.businessUserId };

let tokens: FakeTrustpilot;
let host: ScriptedHost;

beforeAll(async () => {
  tokens = await startFakeTrustpilot({ port: 0, rateLimit: null });
  host = await scriptedInvitationsHost();
});
afterAll(async () => {
  await host.close();
  await tokens.close();
});

/** A send activity over a fresh ledger row; `slotAheadMs` is how far off the pacer's next slot is. */
function sending(options: { slotAheadMs?: number; destination?: Record<string, unknown> } = {}) {
  const ledger = new FakeLedger(INVITATION);
  const app = fakeAppDb((sql) => {
    if (!sql.includes('app.rate_limits')) return [];
    const now = Date.now();
    return [{ slot_ms: now + (options.slotAheadMs ?? 0), now_ms: now }];
  });
  const deps = activityDeps({
    db: app.db,
    appPool: ledger.pool,
    trustpilot: { apiUrl: tokens.apiUrl, invitationsApiUrl: host.url, timeoutMs: 5_000 },
    env: CREDENTIALS_ENV,
  });
  const { sendInvitation } = createSendActivity(deps, fakeRunContext(runConfig(OWN_WORKFLOW, options.destination)));
  return { ledger, sendInvitation };
}

const quiet = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

function environment(workflowId = OWN_WORKFLOW): MockActivityEnvironment {
  return new MockActivityEnvironment({ workflowExecution: { workflowId, runId: '00000000-0000-0000-0000-000000000001' } }, { logger: quiet });
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return await promise.then(
    () => expect.unreachable('the activity should have failed'),
    (error: unknown) => error,
  );
}

describe('the send activity', () => {
  it('sends and records the row sent', async () => {
    host.answer((_request, response) => response.writeHead(201).end('{"id":"inv-1"}'));
    const { ledger, sendInvitation } = sending();
    await expect(environment().run(sendInvitation, { runId: RUN_ID, entryId: ENTRY_ID })).resolves.toBe('sent');
    expect(ledger.statements).toEqual(['ledger-take-for-sending', 'ledger-record-sent']);
    expect(ledger.status).toBe('sent');
  });

  it('cancelled mid-call: records the row failed and in doubt (the call may have gone through), and ends as cancelled', async () => {
    host.answer(() => undefined);
    const { ledger, sendInvitation } = sending();
    const env = environment();
    const arrived = host.nextCall();
    const sent = env.run(sendInvitation, { runId: RUN_ID, entryId: ENTRY_ID });
    await arrived;
    env.cancel();
    expect(await rejectionOf(sent)).toBeInstanceOf(CancelledFailure);
    expect(ledger.failures).toEqual([{ entryId: ENTRY_ID, status: 'failed', errorClass: 'interrupted', message: 'the call was interrupted', inDoubt: true, health: 'unknown' }]);
    expect(ledger.statements).not.toContain('ledger-record-sent');
    expect(ledger.failuresInARow).toBe(0);
  });

  it('cancelled while waiting for its pacing slot: the row is never taken and Trustpilot never called', async () => {
    const { ledger, sendInvitation } = sending({ slotAheadMs: 60_000 });
    const env = environment();
    const calls = host.calls;
    const sent = env.run(sendInvitation, { runId: RUN_ID, entryId: ENTRY_ID });
    await new Promise((resolve) => setTimeout(resolve, 100));
    env.cancel();
    expect(await rejectionOf(sent)).toBeInstanceOf(CancelledFailure);
    expect(ledger.statements).toEqual([]);
    expect(host.calls).toBe(calls);
  });

  it("refuses a task of another workflow even once the run's configuration is cached, without touching the ledger or Trustpilot", async () => {
    host.answer((_request, response) => response.writeHead(201).end('{}'));
    const { ledger, sendInvitation } = sending();
    await expect(environment().run(sendInvitation, { runId: RUN_ID, entryId: ENTRY_ID })).resolves.toBe('sent');
    const statements = [...ledger.statements];
    const calls = host.calls;

    const refused = await rejectionOf(environment('activation-orders-of-another-deployment').run(sendInvitation, { runId: RUN_ID, entryId: ENTRY_ID }));
    expect(refused).toBeInstanceOf(ApplicationFailure);
    expect(refused).toMatchObject({ type: OTHER_DEPLOYMENT_FAILURE, nonRetryable: false });
    expect((refused as Error).message).toContain(`belongs to workflow ${OWN_WORKFLOW}`);
    expect(ledger.statements).toEqual(statements);
    expect(host.calls).toBe(calls);
  });

  it('retries a failed `sent` record in place, heartbeating, instead of failing an attempt whose invitation Trustpilot accepted', async () => {
    host.answer((_request, response) => response.writeHead(201).end('{}'));
    const { ledger, sendInvitation } = sending();
    ledger.failingSentRecords = 2;
    const env = environment();
    let heartbeats = 0;
    env.on('heartbeat', () => heartbeats++);
    const calls = host.calls;
    await expect(env.run(sendInvitation, { runId: RUN_ID, entryId: ENTRY_ID })).resolves.toBe('sent');
    expect(ledger.statements).toEqual(['ledger-take-for-sending', 'ledger-record-sent', 'ledger-record-sent', 'ledger-record-sent']);
    expect(host.calls - calls).toBe(1);
    expect(heartbeats).toBeGreaterThanOrEqual(2);
  });

  it.each([
    ['a 429 with Retry-After: retried after it', 429, { 'retry-after': '2' }, { type: SEND_FAILED_FAILURE, nonRetryable: false, nextRetryDelay: 2_000 }],
    ['a 403: the run stops as misconfigured', 403, {}, { type: 'ActivationMisconfigured', nonRetryable: true }],
  ])('%s', async (_name, status, headers, expected) => {
    host.answer((_request, response) => response.writeHead(status, headers).end());
    const { sendInvitation } = sending();
    expect(await rejectionOf(environment().run(sendInvitation, { runId: RUN_ID, entryId: ENTRY_ID }))).toMatchObject(expected);
  });

  it('stops the run as unavailable when its failure brings the failures in a row to the circuit breaker limit', async () => {
    host.answer((_request, response) => response.writeHead(503).end());
    const { ledger, sendInvitation } = sending({ destination: { circuitBreaker: { failuresInARow: 3 } } });
    ledger.failuresInARow = 2;
    const stopped = await rejectionOf(environment().run(sendInvitation, { runId: RUN_ID, entryId: ENTRY_ID }));
    expect(stopped).toMatchObject({ type: UNAVAILABLE_FAILURE, nonRetryable: true });
    expect((stopped as Error).message).toMatch(/failed 3 times in a row for activation 'orders'.*the last: Trustpilot server error \(503\)/);
    expect(ledger.failures).toMatchObject([{ status: 'failed', errorClass: 'retryable', inDoubt: true, health: 'down' }]);
  });
});

describe('the claim activity', () => {
  it("refuses another workflow's task before reading the ledger or the warehouse", async () => {
    const config = runConfig(OWN_WORKFLOW);
    const runs = /from "app"\."runs"/;
    const app = fakeAppDb((sql) =>
      runs.test(sql) ? [{ workflow_id: OWN_WORKFLOW, config: { destination: { id: 'dest', businessUnitId: 'bu-1', invitationType: 'service' }, activation: config.activation } }] : [],
    );
    const warehouse = new Proxy({} as WarehouseLookup, {
      get: (_target, property) => expect.unreachable(`the warehouse was used (${String(property)})`),
    });
    const { claimBatch } = createClaimActivity(
      activityDeps({ db: app.db, appPool: new FakeLedger(INVITATION).pool, trustpilot: { apiUrl: tokens.apiUrl, invitationsApiUrl: host.url }, env: {} }),
      createRunContext(app.db, warehouse),
    );
    const refused = await rejectionOf(environment('activation-orders-of-another-deployment').run(claimBatch, { runId: RUN_ID, afterId: 0 }));
    expect(refused).toMatchObject({ type: OTHER_DEPLOYMENT_FAILURE });
    expect((refused as Error).message).toContain(`belongs to workflow ${OWN_WORKFLOW}`);
    expect(app.statements.length).toBeGreaterThan(0);
    expect(app.statements.filter((sql) => !runs.test(sql))).toEqual([]);
  });
});
