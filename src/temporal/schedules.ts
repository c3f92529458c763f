import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptions,
  type ScheduleOptionsStartWorkflowAction,
} from '@temporalio/client';
import { PublicError, parseDuration, type ActivationConfig } from '../domain/index.ts';
import type { activationRun } from '../workflows/index.ts';
import { searchAttributes } from './search-attributes.ts';

export function scheduleIdFor(activationId: string): string {
  return `activation:${activationId}`;
}

/** Prefix of every workflow id of an activation's runs; the schedule appends the scheduled time. */
export function workflowIdPrefixFor(activationId: string): string {
  return `activation-${activationId}`;
}

/** A schedule of the same id that another deployment (another app database) created. */
export class ScheduleOwnershipError extends PublicError {
  override readonly name = 'ScheduleOwnershipError';
}

export interface ScheduleTarget {
  activation: ActivationConfig;
  taskQueue: string;
  /** the app database's deployment id; schedules carry it and are never re-targeted by another */
  deploymentId: string;
  /** paused by an operator or by the product (`cli pause`, too many failed runs), with the reason */
  pausedNote: string | null;
}

function describeEvery(activation: ActivationConfig): string {
  return activation.schedule.cron ? `cron ${activation.schedule.cron} (UTC)` : `every ${activation.schedule.every ?? '?'}`;
}

function pauseState(target: ScheduleTarget): { paused: boolean; note?: string } {
  const { activation } = target;
  if (!activation.enabled) return { paused: true, note: 'activation disabled (enabled: false)' };
  if (activation.schedule.paused) return { paused: true, note: 'paused by configuration (schedule.paused)' };
  if (target.pausedNote !== null) return { paused: true, note: target.pausedNote };
  return { paused: false };
}

function action(target: ScheduleTarget): ScheduleOptionsStartWorkflowAction<typeof activationRun> {
  const { activation } = target;
  return {
    type: 'startWorkflow',
    workflowType: 'activationRun' satisfies (typeof activationRun)['name'],
    args: [{ activationId: activation.id }],
    taskQueue: target.taskQueue,
    workflowId: workflowIdPrefixFor(activation.id),
    memo: { deploymentId: target.deploymentId },
    staticSummary: `${activation.id}: scheduled run (${describeEvery(activation)})`,
    typedSearchAttributes: [
      { key: searchAttributes.activationId, value: activation.id },
      { key: searchAttributes.destinationId, value: activation.destinationId },
    ],
  };
}

function scheduleOptions(target: ScheduleTarget): ScheduleOptions {
  const { activation } = target;
  const { schedule } = activation;
  const state = pauseState(target);
  return {
    scheduleId: scheduleIdFor(activation.id),
    spec: schedule.cron ? { cronExpressions: [schedule.cron] } : { intervals: [{ every: parseDuration(schedule.every ?? '1h') }] },
    action: action(target),
    memo: { deploymentId: target.deploymentId },
    policies: {
      // A run still going when the next one is due simply lets that one pass.
      overlap: ScheduleOverlapPolicy.SKIP,
      catchupWindow: parseDuration(schedule.catchupWindow),
    },
    state: { paused: state.paused, ...(state.note ? { note: state.note } : {}) },
  };
}

function ownerOf(memo: Record<string, unknown> | undefined): string | undefined {
  const owner = memo?.deploymentId;
  return typeof owner === 'string' ? owner : undefined;
}

/**
 * Creates the activation's schedule, or brings an existing one in line with the configuration.
 * Refuses a schedule of the same id that another deployment owns. Two concurrent first-time
 * calls both succeed: the one that loses the creation updates instead.
 */
export async function ensureSchedule(client: Client, target: ScheduleTarget): Promise<'created' | 'updated'> {
  const options = scheduleOptions(target);
  const handle = client.schedule.getHandle(options.scheduleId);
  for (let attempt = 1; ; attempt++) {
    try {
      await handle.update((previous) => {
        const previousAction = previous.action as { memo?: Record<string, unknown> };
        const owner = ownerOf(previousAction.memo);
        if (owner !== undefined && owner !== target.deploymentId) {
          throw new ScheduleOwnershipError(
            `Schedule ${options.scheduleId} belongs to another deployment (another app database); it was left alone. Use another activation id, or delete that schedule from the deployment that owns it.`,
          );
        }
        return {
          ...previous,
          spec: options.spec,
          action: options.action,
          policies: { ...previous.policies, ...options.policies },
          state: { ...previous.state, paused: options.state?.paused ?? false, note: options.state?.note ?? '' },
        };
      });
      return 'updated';
    } catch (error) {
      if (!(error instanceof ScheduleNotFoundError)) throw error;
    }
    try {
      await client.schedule.create(options);
      return 'created';
    } catch (error) {
      if (!(error instanceof ScheduleAlreadyRunning) || attempt >= 3) throw error;
      // Created meanwhile by a concurrent apply: update it instead.
    }
  }
}

export async function deleteSchedule(client: Client, activationId: string): Promise<boolean> {
  try {
    await client.schedule.getHandle(scheduleIdFor(activationId)).delete();
    return true;
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) return false;
    throw error;
  }
}

/** Starts a run now through the schedule (skipped if one is running); returns the workflow id it will get. */
export async function triggerSchedule(client: Client, activationId: string): Promise<void> {
  await client.schedule.getHandle(scheduleIdFor(activationId)).trigger(ScheduleOverlapPolicy.SKIP);
}

export async function setSchedulePaused(client: Client, activationId: string, paused: boolean, note: string): Promise<void> {
  const handle = client.schedule.getHandle(scheduleIdFor(activationId));
  if (paused) await handle.pause(note);
  else await handle.unpause(note);
}

export interface ScheduleState {
  paused: boolean;
  note: string | null;
  nextRunAt: string | null;
  lastRunAt: string | null;
}

export async function describeSchedule(client: Client, activationId: string): Promise<ScheduleState | undefined> {
  try {
    const description = await client.schedule.getHandle(scheduleIdFor(activationId)).describe();
    const last = description.info.recentActions.at(-1);
    return {
      paused: description.state.paused,
      note: description.state.note ?? null,
      nextRunAt: description.info.nextActionTimes[0]?.toISOString() ?? null,
      lastRunAt: last?.takenAt.toISOString() ?? null,
    };
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) return undefined;
    throw error;
  }
}
