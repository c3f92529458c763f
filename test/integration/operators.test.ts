import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActivationNotFoundError, InvitationsClient, RunMisconfiguredError, RunOverlapError } from '../../src/client.ts';
import { deleteSchedule, describeSchedule } from '../../src/temporal/schedules.ts';
import type { AlertBody } from '../../src/activities/after-run.ts';
import { FAST_PACING, createOrdersTable, createTestContext, runToEnd, saveServiceActivation, segmentRow, serviceDestination, waitFor, type TestContext } from './harness.ts';
import { freePort, killAllWorkers, spawnWorker, workerEnvFor } from './processes.ts';

/** What operators and programs rely on beyond sending: alerts, self-protection, metrics, the typed client. */
describe('operators and programs', () => {
  let ctx: TestContext;
  let hooks: Server;
  const received: AlertBody[] = [];

  beforeAll(async () => {
    ctx = await createTestContext('operators', { rateLimit: null });
    hooks = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        received.push(JSON.parse(body) as AlertBody);
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
    ctx.workerEnv.OPS_ALERT_WEBHOOK = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hook`;
    await ctx.startWorker();
  });
  afterAll(async () => {
    await killAllWorkers();
    await deleteSchedule(ctx.temporal, 'pausing');
    await ctx.close();
    hooks.close();
  });

  const destination = (id: string, alerts?: Record<string, unknown>) => serviceDestination(id, { ...FAST_PACING, ...(alerts ? { alerts } : {}) });

  it('posts a Slack-compatible alert when a run fails, when the activation recovers, and when too many rows are rejected', async () => {
    await saveServiceActivation(ctx, 'alerting', { kind: 'table', schema: 'shop', name: 'alerting_orders' }, {
      destination: destination('alerting', { webhookUrlEnv: 'OPS_ALERT_WEBHOOK', rejectedShareAbove: 0.2 }),
    });
    const failed = await runToEnd(ctx, 'alerting');
    expect(failed).toMatchObject({ status: 'failed', failureKind: 'misconfigured' });
    await waitFor('the failure alert', () => Promise.resolve(received.some((alert) => alert.event === 'failed') ? true : undefined), 20_000);

    const rows = Array.from({ length: 10 }, (_, index) => segmentRow('AL', index + 1));
    for (const index of [0, 1, 2]) rows[index] = { ...rows[index], customer_email: 'not-an-address' };
    await createOrdersTable(ctx, 'alerting_orders', rows);
    expect(await runToEnd(ctx, 'alerting')).toMatchObject({ status: 'succeeded', sent: 7, rejected: 3 });
    await waitFor('the recovery and rejected-share alerts', () => Promise.resolve(received.filter((alert) => alert.activationId === 'alerting').length >= 3 ? true : undefined), 20_000);

    const events = received.filter((alert) => alert.activationId === 'alerting').map((alert) => alert.event);
    expect(events).toEqual(['failed', 'recovered', 'rejected_share']);
    for (const alert of received) {
      expect(alert.text).toMatch(/alerting/);
      expect(alert.destinationId).toBe('alerting');
      expect(JSON.stringify(alert)).not.toMatch(/@shop\.example\.com|Buyer AL/);
    }
    expect(received.find((alert) => alert.event === 'failed')?.text).toMatch(/alerting_orders/);
    expect(received.find((alert) => alert.event === 'rejected_share')?.text).toMatch(/30%/);
  });

  it('pauses an activation whose runs keep failing for configuration reasons, with a note, until it is resumed', async () => {
    await saveServiceActivation(ctx, 'pausing', { kind: 'table', schema: 'shop', name: 'no_such_table' }, {
      destination: destination('pausing'),
      activation: { pauseAfterFailures: 2 },
    });
    await ctx.client.ensureSchedule('pausing');
    expect((await describeSchedule(ctx.temporal, 'pausing'))?.paused).toBe(false);
    await runToEnd(ctx, 'pausing');
    expect((await describeSchedule(ctx.temporal, 'pausing'))?.paused).toBe(false);
    await runToEnd(ctx, 'pausing');
    const schedule = await waitFor('the schedule to be paused', async () => {
      const state = await describeSchedule(ctx.temporal, 'pausing');
      return state?.paused ? state : undefined;
    }, 20_000);
    expect(schedule.note).toMatch(/2 runs in a row failed for configuration reasons/);
    const stored = await ctx.db.selectFrom('app.activations').select('paused_note').where('id', '=', 'pausing').executeTakeFirstOrThrow();
    expect(stored.paused_note).toBe(schedule.note);
    // Applying the configuration again keeps the pause: only `resume` lifts it.
    await ctx.client.ensureSchedule('pausing');
    expect((await describeSchedule(ctx.temporal, 'pausing'))?.paused).toBe(true);
  });

  it('serves Prometheus metrics: the SDK’s and the invitations sent per activation', async () => {
    await createOrdersTable(ctx, 'metered_orders', Array.from({ length: 5 }, (_, index) => segmentRow('ME', index + 1)));
    await saveServiceActivation(ctx, 'metered', { kind: 'table', schema: 'shop', name: 'metered_orders' }, { destination: destination('metered') });
    const port = await freePort();
    const worker = spawnWorker('metrics', workerEnvFor(ctx, { METRICS_BIND_ADDRESS: `127.0.0.1:${port}`, TEMPORAL_TASK_QUEUE: `${ctx.taskQueue}-metrics` }));
    await worker.ready();
    const metricsClient = new InvitationsClient({ temporal: ctx.temporal, db: ctx.db, taskQueue: `${ctx.taskQueue}-metrics` });
    expect(await metricsClient.run('metered')).toMatchObject({ sent: 5 });
    const text = await waitFor('the sent counter', async () => {
      const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return /trustpilot_invitations_total\{[^}]*activation="metered"[^}]*outcome="sent"[^}]*\} 5/.test(body) ? body : undefined;
    }, 20_000);
    expect(text).toMatch(/temporal_activity_execution_latency/);
    expect(text).toMatch(/trustpilot_run_duration/);
    await worker.kill();
  });

  it('gives programs typed runs: progress while running, the summary, and typed errors', async () => {
    await createOrdersTable(ctx, 'typed_orders', Array.from({ length: 12 }, (_, index) => segmentRow('TY', index + 1)));
    await saveServiceActivation(ctx, 'typed', { kind: 'table', schema: 'shop', name: 'typed_orders' }, {
      destination: destination('typed'),
      activation: { concurrency: 1 },
    });
    ctx.fake.setFaults({ latencyMs: 150 });
    try {
      const handle = await ctx.client.start('typed');
      const progress = await waitFor('progress', async () => {
        const answer = await handle.progress().catch(() => undefined);
        return answer && answer.phase === 'sending' ? answer : undefined;
      });
      expect(progress).toMatchObject({ activationId: 'typed', toHandle: 12 });
      // A second start while this one runs is skipped, and says so with a typed error.
      await expect(ctx.client.run('typed')).rejects.toBeInstanceOf(RunOverlapError);
      expect(await handle.result()).toMatchObject({ status: 'succeeded', sent: 12 });
    } finally {
      ctx.fake.setFaults({});
    }
    await expect(ctx.client.start('no-such-activation')).rejects.toBeInstanceOf(ActivationNotFoundError);
    await saveServiceActivation(ctx, 'typed-broken', { kind: 'table', schema: 'shop', name: 'missing_table' }, { destination: destination('typed-broken') });
    const failure = await ctx.client.run('typed-broken').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RunMisconfiguredError);
    expect((failure as RunMisconfiguredError).summary).toMatchObject({ status: 'failed', activationId: 'typed-broken' });
  });
});
