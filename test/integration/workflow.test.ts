import { randomBytes } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Activities } from '../../src/activities/index.ts';
import { searchAttributes } from '../../src/temporal/search-attributes.ts';
import type { activationRun } from '../../src/workflows/index.ts';
import {
  MISCONFIGURED_FAILURE,
  UNAVAILABLE_FAILURE,
  type ClaimResult,
  type DetectResult,
  type FinishRunInput,
  type RunSummary,
  type SendOutcome,
  type StartRunResult,
} from '../../src/run/types.ts';
import { runSummary } from '../fixtures.ts';

/**
 * The workflow's own logic, on the real dev server, with activities stubbed: what it does with
 * claims, sends and failures, independent of Postgres and Trustpilot.
 */

type StubActivities = Pick<Activities, 'startRun' | 'detectNewRows' | 'claimBatch' | 'sendInvitation' | 'finishRun' | 'runSummary' | 'afterRun'>;

interface Script {
  concurrency?: number;
  skipped?: boolean;
  /** ledger ids the claims hand out, in batches of `batch` */
  ids?: number;
  batch?: number;
  send?: (entryId: number) => Promise<SendOutcome>;
}

interface Recorder {
  calls: { name: string; input: unknown; at: number }[];
  sent: number[];
  finished: FinishRunInput[];
  maxInFlight: number;
}

function summary(runId: number, status: RunSummary['status'], error: string | null = null): RunSummary {
  return runSummary({ runId, activationId: 'stub', status, startedAt: new Date().toISOString(), finishedAt: new Date().toISOString(), error });
}

function stubs(script: Script, recorder: Recorder): StubActivities {
  const total = script.ids ?? 0;
  const batch = script.batch ?? 100;
  let inFlight = 0;
  const record = (name: string, input: unknown) => recorder.calls.push({ name, input, at: Date.now() });
  return {
    startRun(input): Promise<StartRunResult> {
      record('startRun', input);
      return Promise.resolve(
        script.skipped
          ? { runId: 7, concurrency: script.concurrency ?? 8, retriedRows: 0, skipped: { reason: 'run 6 is still in progress' } }
          : { runId: 7, concurrency: script.concurrency ?? 8, retriedRows: 0 },
      );
    },
    detectNewRows(input): Promise<DetectResult> {
      record('detectNewRows', input);
      return Promise.resolve({ sourceRows: total, newRows: total, reconsidered: 0, duplicateKeys: 0, nullKeys: 0, oversizedKeys: 0, baselineRows: 0, skippedAlreadySent: 0, fullScan: true });
    },
    claimBatch(input): Promise<ClaimResult> {
      record('claimBatch', input);
      const first = input.afterId + 1;
      const last = Math.min(total, input.afterId + batch);
      const entryIds = Array.from({ length: Math.max(0, last - first + 1) }, (_, index) => first + index);
      return Promise.resolve({ entryIds, lastId: entryIds.at(-1) ?? input.afterId, rejected: 0, done: last >= total });
    },
    async sendInvitation(input): Promise<SendOutcome> {
      record('sendInvitation', input);
      inFlight++;
      recorder.maxInFlight = Math.max(recorder.maxInFlight, inFlight);
      try {
        const outcome = await (script.send ?? (() => Promise.resolve<SendOutcome>('sent')))(input.entryId);
        recorder.sent.push(input.entryId);
        return outcome;
      } finally {
        inFlight--;
      }
    },
    finishRun(input): Promise<RunSummary> {
      record('finishRun', input);
      recorder.finished.push(input);
      return Promise.resolve(summary(input.runId, input.outcome, input.error ?? null));
    },
    runSummary(runId): Promise<RunSummary> {
      record('runSummary', runId);
      return Promise.resolve(summary(runId, 'skipped', 'run 6 is still in progress'));
    },
    afterRun(input) {
      record('afterRun', input);
      return Promise.resolve({ alerts: [], paused: false });
    },
  };
}

describe('the activation run workflow, with its activities stubbed', () => {
  let connection: Connection;
  let client: Client;
  let nativeConnection: NativeConnection;

  beforeAll(async () => {
    connection = await Connection.connect({ address: inject('temporalAddress') });
    client = new Client({ connection });
    nativeConnection = await NativeConnection.connect({ address: inject('temporalAddress') });
  });
  afterAll(async () => {
    await nativeConnection.close();
    await connection.close();
  });

  async function runScripted(script: Script): Promise<{ recorder: Recorder; result: RunSummary | undefined; error: unknown; workflowId: string; executions: number }> {
    const recorder: Recorder = { calls: [], sent: [], finished: [], maxInFlight: 0 };
    const taskQueue = `workflow-${randomBytes(4).toString('hex')}`;
    const worker = await Worker.create({
      connection: nativeConnection,
      taskQueue,
      workflowBundle: { code: inject('workflowCode') },
      activities: stubs(script, recorder),
    });
    const workflowId = `stub-${randomBytes(4).toString('hex')}`;
    return await worker.runUntil(async () => {
      const handle = await client.workflow.start<typeof activationRun>('activationRun', {
        taskQueue,
        workflowId,
        args: [{ activationId: 'stub' }],
        typedSearchAttributes: [{ key: searchAttributes.activationId, value: 'stub' }],
      });
      let result: RunSummary | undefined;
      let error: unknown;
      try {
        result = await handle.result();
      } catch (failure) {
        error = failure;
      }
      let executions = 0;
      for await (const _execution of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) executions++;
      return { recorder, result, error, workflowId, executions };
    });
  }

  it('never has more invitations in flight than the activation allows', async () => {
    const { recorder, result } = await runScripted({
      concurrency: 3,
      ids: 30,
      batch: 10,
      send: async () => {
        await new Promise((resolve) => setTimeout(resolve, 40));
        return 'sent';
      },
    });
    expect(result?.status).toBe('succeeded');
    expect(recorder.sent.sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, index) => index + 1));
    expect(recorder.maxInFlight).toBe(3);
  });

  it('claims the next batch while the current one is still sending', async () => {
    const { recorder } = await runScripted({
      concurrency: 2,
      ids: 20,
      batch: 10,
      send: async () => {
        await new Promise((resolve) => setTimeout(resolve, 30));
        return 'sent';
      },
    });
    const secondClaim = recorder.calls.find((call) => call.name === 'claimBatch' && (call.input as { afterId: number }).afterId === 10);
    const lastSendOfFirstBatch = recorder.calls.filter((call) => call.name === 'sendInvitation' && (call.input as { entryId: number }).entryId <= 10).at(-1);
    expect(secondClaim).toBeDefined();
    expect(lastSendOfFirstBatch).toBeDefined();
    expect(secondClaim?.at ?? Infinity).toBeLessThan(lastSendOfFirstBatch?.at ?? 0);
  });

  it('stops at once on a misconfiguration: no more sends than were in flight, and the run ends failed with the reason', async () => {
    const { recorder, error } = await runScripted({
      concurrency: 4,
      ids: 200,
      batch: 100,
      send: () => Promise.reject(ApplicationFailure.create({ message: 'Trustpilot forbade the invitation (403)', type: MISCONFIGURED_FAILURE, nonRetryable: true })),
    });
    const sends = recorder.calls.filter((call) => call.name === 'sendInvitation');
    expect(sends.length).toBeLessThanOrEqual(4);
    expect(recorder.finished).toEqual([{ runId: 7, outcome: 'failed', error: 'Trustpilot forbade the invitation (403)', failureKind: 'misconfigured' }]);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect((error as WorkflowFailedError).cause).toMatchObject({ type: MISCONFIGURED_FAILURE, message: 'Trustpilot forbade the invitation (403)' });
  });

  it('stops sending when the circuit breaker opens, and says Trustpilot is unavailable', async () => {
    const { recorder, error } = await runScripted({
      concurrency: 2,
      ids: 100,
      batch: 50,
      send: (entryId) =>
        entryId < 5 ? Promise.resolve('sent') : Promise.reject(ApplicationFailure.create({ message: 'Trustpilot failed 20 times in a row', type: UNAVAILABLE_FAILURE, nonRetryable: true })),
    });
    expect(recorder.calls.filter((call) => call.name === 'sendInvitation').length).toBeLessThan(10);
    expect(recorder.finished[0]).toMatchObject({ outcome: 'failed', failureKind: 'unavailable' });
    expect((error as WorkflowFailedError).cause).toMatchObject({ type: UNAVAILABLE_FAILURE });
  });

  it('continues as new when history grows, carrying only its position, and dispatches every id exactly once', async () => {
    // The dev server suggests continuing as new after a few hundred events (test/integration/global-setup.ts).
    const { recorder, result, executions } = await runScripted({ concurrency: 10, ids: 600, batch: 150 });
    expect(result?.status).toBe('succeeded');
    expect(executions).toBeGreaterThan(1);
    const sent = recorder.calls.filter((call) => call.name === 'sendInvitation').map((call) => (call.input as { entryId: number }).entryId);
    expect(sent.length).toBe(600);
    expect(new Set(sent).size).toBe(600);
    // Detection runs once, in the first execution only.
    expect(recorder.calls.filter((call) => call.name === 'detectNewRows')).toHaveLength(1);
    expect(recorder.calls.filter((call) => call.name === 'startRun')).toHaveLength(1);
    expect(recorder.finished).toHaveLength(1);
  });

  it('does nothing but report when another run holds the lock (skipped)', async () => {
    const { recorder, result, workflowId } = await runScripted({ skipped: true, ids: 10 });
    expect(result).toMatchObject({ status: 'skipped', error: 'run 6 is still in progress' });
    expect(recorder.calls.map((call) => call.name)).toEqual(['startRun', 'runSummary']);
    const description = await client.workflow.getHandle(workflowId).describe();
    expect(description.typedSearchAttributes.get(searchAttributes.outcome)).toBe('skipped');
  });
});
