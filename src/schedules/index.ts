import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { parseDuration, type ActivationConfig } from '../domain/index.ts';
import { ACTIVATION_SEARCH_ATTRIBUTE } from '../workflows/types.ts';
import type { activationRun } from '../workflows/index.ts';

export const activationSearchAttribute = defineSearchAttributeKey(ACTIVATION_SEARCH_ATTRIBUTE, SearchAttributeType.KEYWORD);

export function scheduleIdFor(activationId: string): string {
  return `activation:${activationId}`;
}

/** Prefix of every workflow id of an activation's runs; the schedule appends the scheduled time. */
export function workflowIdPrefixFor(activationId: string): string {
  return `activation-${activationId}`;
}

function scheduleOptions(activation: ActivationConfig, taskQueue: string): ScheduleOptions {
  const { schedule } = activation;
  return {
    scheduleId: scheduleIdFor(activation.id),
    spec: schedule.cron ? { cronExpressions: [schedule.cron] } : { intervals: [{ every: parseDuration(schedule.every ?? '1h') }] },
    action: {
      type: 'startWorkflow',
      workflowType: 'activationRun' satisfies (typeof activationRun)['name'],
      args: [{ activationId: activation.id }],
      taskQueue,
      workflowId: workflowIdPrefixFor(activation.id),
      typedSearchAttributes: [{ key: activationSearchAttribute, value: activation.id }],
    },
    policies: {
      // A run still going when the next one is due simply lets that one pass.
      overlap: ScheduleOverlapPolicy.SKIP,
      catchupWindow: parseDuration(schedule.catchupWindow),
    },
    state: {
      paused: schedule.paused || !activation.enabled,
      note: activation.enabled ? undefined : 'activation disabled',
    },
  };
}

/** Creates the activation's schedule, or brings an existing one in line with the configuration. */
export async function ensureSchedule(client: Client, activation: ActivationConfig, taskQueue: string): Promise<void> {
  const options = scheduleOptions(activation, taskQueue);
  const handle = client.schedule.getHandle(options.scheduleId);
  try {
    await handle.update((previous) => ({
      ...previous,
      spec: options.spec,
      action: options.action,
      policies: { ...previous.policies, ...options.policies },
      state: { ...previous.state, paused: options.state?.paused ?? false, note: options.state?.note },
    }));
  } catch (error) {
    if (!(error instanceof ScheduleNotFoundError)) throw error;
    await client.schedule.create(options);
  }
}

export async function deleteSchedule(client: Client, activationId: string): Promise<void> {
  try {
    await client.schedule.getHandle(scheduleIdFor(activationId)).delete();
  } catch (error) {
    if (!(error instanceof ScheduleNotFoundError)) throw error;
  }
}

export async function triggerSchedule(client: Client, activationId: string): Promise<void> {
  await client.schedule.getHandle(scheduleIdFor(activationId)).trigger(ScheduleOverlapPolicy.SKIP);
}

export async function setSchedulePaused(client: Client, activationId: string, paused: boolean, note?: string): Promise<void> {
  const handle = client.schedule.getHandle(scheduleIdFor(activationId));
  if (paused) await handle.pause(note);
  else await handle.unpause(note);
}
