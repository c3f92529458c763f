import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { activationConfigSchema, PublicError } from '../../src/domain/index.ts';
import { ScheduleSpecError, ensureSchedule, pauseState, pausedAgainNote, scheduleDrift } from '../../src/temporal/schedules.ts';

const activation = (schedule: Record<string, unknown> = { every: '5m' }, extra: Record<string, unknown> = {}) =>
  activationConfigSchema.parse({
    id: 'demo-orders',
    destinationId: 'acme',
    source: { kind: 'table', name: 'orders' },
    primaryKey: 'order_id',
    mapping: { consumerName: 'name', consumerEmail: 'email', referenceNumber: 'order_id' },
    schedule,
    ...extra,
  });

interface LiveSchedule {
  state: { paused: boolean; note?: string };
  action: { memo?: Record<string, unknown> };
  spec?: unknown;
  policies?: unknown;
}

/** Temporal's schedule client, as far as the schedule code uses it: one schedule, or none. */
function fakeClient(live: LiveSchedule | undefined, options: { createFails?: Error } = {}) {
  const calls = { created: 0, updated: [] as LiveSchedule[] };
  const client = {
    schedule: {
      getHandle: (scheduleId: string) => ({
        describe: () => (live ? Promise.resolve(live) : Promise.reject(new ScheduleNotFoundError('not found', scheduleId))),
        update: async (change: (previous: LiveSchedule) => LiveSchedule) => {
          if (!live) throw new ScheduleNotFoundError('not found', scheduleId);
          calls.updated.push(change(live));
          return Promise.resolve();
        },
      }),
      create: () => {
        calls.created += 1;
        return options.createFails ? Promise.reject(options.createFails) : Promise.resolve();
      },
    },
  };
  return { client: client as unknown as Client, calls };
}

const ours = { memo: { deploymentId: 'dep-1' } };

describe('the note a paused schedule shows', () => {
  it("is the operator's reason, even when the configuration pauses it too", () => {
    expect(pauseState({ activation: activation({ every: '5m', paused: true }), pausedNote: 'catalogue upload pending' })).toEqual({
      paused: true,
      note: 'catalogue upload pending',
    });
    expect(pauseState({ activation: activation({ every: '5m' }, { enabled: false }), pausedNote: 'catalogue upload pending' }).note).toBe('catalogue upload pending');
  });

  it("is the configuration's when no one paused it, and says why apply paused it again", () => {
    const target = { activation: activation({ every: '5m', paused: true }), pausedNote: null };
    expect(pauseState(target)).toEqual({ paused: true, note: 'paused by configuration (schedule.paused)' });
    const again = pausedAgainNote(target, new Date('2026-03-01T10:00:00.123Z'));
    expect(again).toBe(
      'paused again by apply at 2026-03-01T10:00:00Z: it had been resumed in Temporal, but it is paused by its configuration; change the configuration and apply to resume it',
    );
    expect(pauseState({ ...target, pausedAgain: again }).note).toBe(`paused by configuration (schedule.paused); ${again}`);
    expect(pauseState({ activation: activation(), pausedNote: null })).toEqual({ paused: false });
  });
});

describe('drift between the live schedule and what apply sets', () => {
  it('reports a configuration-paused schedule resumed in Temporal', async () => {
    const { client } = fakeClient({ state: { paused: false }, action: ours });
    expect(await scheduleDrift(client, { activation: activation({ every: '5m', paused: true }), deploymentId: 'dep-1', pausedNote: null })).toEqual({
      activationId: 'demo-orders',
      description: 'running in Temporal, paused by its configuration: will be paused again',
      resumedInTemporal: true,
    });
  });

  it('reports a schedule paused in Temporal that nothing of ours pauses, and a missing one', async () => {
    const paused = fakeClient({ state: { paused: true, note: 'checking something' }, action: ours });
    expect((await scheduleDrift(paused.client, { activation: activation(), deploymentId: 'dep-1', pausedNote: null }))?.description).toBe(
      "paused in Temporal ('checking something'), not by its configuration nor by `cli pause`: will be resumed",
    );
    const missing = fakeClient(undefined);
    expect((await scheduleDrift(missing.client, { activation: activation(), deploymentId: 'dep-1', pausedNote: null }))?.description).toBe('missing in Temporal: will be created');
  });

  it('reports nothing for a schedule in the state the stored configuration sets, about to follow a change of it', async () => {
    const { client } = fakeClient({ state: { paused: true, note: 'paused by configuration (schedule.paused)' }, action: ours });
    const previous = { activation: activation({ every: '5m', paused: true }), pausedNote: null };
    expect(await scheduleDrift(client, { activation: activation(), deploymentId: 'dep-1', pausedNote: null }, previous)).toBeUndefined();
    // Resumed in Temporal meanwhile, and still paused by the configuration applied: that is drift.
    const resumed = fakeClient({ state: { paused: false }, action: ours });
    expect(
      (await scheduleDrift(resumed.client, { activation: activation({ every: '1h', paused: true }), deploymentId: 'dep-1', pausedNote: null }, previous))?.resumedInTemporal,
    ).toBe(true);
  });

  it('reports nothing when the live state is the wanted one, or when another deployment owns the schedule', async () => {
    const same = fakeClient({ state: { paused: true, note: 'paused by configuration (schedule.paused)' }, action: ours });
    expect(await scheduleDrift(same.client, { activation: activation({ every: '5m', paused: true }), deploymentId: 'dep-1', pausedNote: null })).toBeUndefined();
    const foreign = fakeClient({ state: { paused: false }, action: { memo: { deploymentId: 'elsewhere' } } });
    expect(await scheduleDrift(foreign.client, { activation: activation({ every: '5m', paused: true }), deploymentId: 'dep-1', pausedNote: null })).toBeUndefined();
  });

  it('keeps the note that says why apply paused it again, until the schedule runs again', async () => {
    const note = `paused by configuration (schedule.paused); ${pausedAgainNote({ activation: activation({ every: '5m', paused: true }), pausedNote: null })}`;
    const { client, calls } = fakeClient({ state: { paused: true, note }, action: ours });
    await ensureSchedule(client, { activation: activation({ every: '5m', paused: true }), taskQueue: 'q', deploymentId: 'dep-1', pausedNote: null });
    expect(calls.updated[0]?.state).toMatchObject({ paused: true, note });
    await ensureSchedule(client, { activation: activation({ every: '5m', paused: true }), taskQueue: 'q', deploymentId: 'dep-1', pausedNote: 'operator' });
    expect(calls.updated[1]?.state).toMatchObject({ paused: true, note: 'operator' });
  });
});

describe('a schedule Temporal refuses', () => {
  it('is a ScheduleSpecError naming the activation and the field, never a bare TypeError', async () => {
    const { client } = fakeClient(undefined, { createFails: new TypeError('DayOfMonth is not in range [1-31]') });
    const target = { activation: activation({ cron: '0 9 1 * *' }), taskQueue: 'q', deploymentId: 'dep-1', pausedNote: null };
    const failure = await ensureSchedule(client, target).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ScheduleSpecError);
    expect(failure).toBeInstanceOf(PublicError);
    expect((failure as Error).message).toBe("activation 'demo-orders': Temporal refused its schedule (schedule.cron '0 9 1 * *'): DayOfMonth is not in range [1-31]");
    const every = await ensureSchedule(fakeClient(undefined, { createFails: new TypeError('Interval is too small') }).client, { ...target, activation: activation({ every: '5m' }) }).catch(
      (error: unknown) => error,
    );
    expect((every as Error).message).toBe("activation 'demo-orders': Temporal refused its schedule (schedule.every '5m'): Interval is too small");
  });

  it('passes other failures on as they are', async () => {
    const network = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const { client } = fakeClient(undefined, { createFails: network });
    await expect(ensureSchedule(client, { activation: activation(), taskQueue: 'q', deploymentId: 'dep-1', pausedNote: null })).rejects.toBe(network);
  });
});
