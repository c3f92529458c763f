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

/**
 * Temporal refused the schedule an activation's configuration describes (the SDK reports an
 * invalid spec as a TypeError): named by activation and field, so it never reads as a crash.
 */
export class ScheduleSpecError extends PublicError {
  override readonly name = 'ScheduleSpecError';
}

export interface ScheduleTarget {
  activation: ActivationConfig;
  taskQueue: string;
  /** the app database's deployment id; schedules carry it and are never re-targeted by another */
  deploymentId: string;
  /** paused by an operator or by the product (`cli pause`, too many failed runs), with the reason */
  pausedNote: string | null;
  /** why the schedule is paused again although someone resumed it in Temporal; added to the note */
  pausedAgain?: string;
}

function describeEvery(activation: ActivationConfig): string {
  return activation.schedule.cron ? `cron ${activation.schedule.cron} (UTC)` : `every ${activation.schedule.every ?? '?'}`;
}

/**
 * Whether the schedule is paused, and the note Temporal shows. An operator's (or the product's)
 * reason comes first: it is the newest word on the matter, and `pause --reason` must show it even
 * when the configuration pauses the schedule too.
 */
export function pauseState(target: Omit<ScheduleTarget, 'taskQueue' | 'deploymentId'>): { paused: boolean; note?: string } {
  const { activation } = target;
  const note = (text: string) => (target.pausedAgain ? `${text}; ${target.pausedAgain}` : text);
  if (target.pausedNote !== null) return { paused: true, note: note(target.pausedNote) };
  if (!activation.enabled) return { paused: true, note: note('activation disabled (enabled: false)') };
  if (activation.schedule.paused) return { paused: true, note: note('paused by configuration (schedule.paused)') };
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
  try {
    return await syncSchedule(client, target);
  } catch (error) {
    throw error instanceof TypeError ? specError(target.activation, error) : error;
  }
}

function specError(activation: ActivationConfig, error: TypeError): ScheduleSpecError {
  const { schedule } = activation;
  const reason = error.message.replace(/\s+/g, ' ').slice(0, 200);
  const field = /catch-?up/i.test(reason)
    ? `schedule.catchupWindow '${schedule.catchupWindow}'`
    : schedule.cron
      ? `schedule.cron '${schedule.cron}'`
      : `schedule.every '${schedule.every ?? ''}'`;
  return new ScheduleSpecError(`activation '${activation.id}': Temporal refused its schedule (${field}): ${reason}`);
}

async function syncSchedule(client: Client, target: ScheduleTarget): Promise<'created' | 'updated'> {
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
        const paused = options.state?.paused ?? false;
        const note = options.state?.note ?? '';
        // A note that says more than the wanted one (why `apply` paused it again) stays until the schedule runs again.
        const keptNote = paused && previous.state.paused && note !== '' && previous.state.note?.startsWith(note) ? previous.state.note : note;
        return {
          ...previous,
          spec: options.spec,
          action: options.action,
          policies: { ...previous.policies, ...options.policies },
          state: { ...previous.state, paused, note: keptNote },
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

/** How a schedule in Temporal differs from what `ensureSchedule` will make of it, in a sentence for the plan. */
export interface ScheduleDrift {
  activationId: string;
  /** e.g. 'running in Temporal, paused by its configuration: will be paused again' */
  description: string;
  /** the live schedule runs although the configuration (or an operator) pauses it */
  resumedInTemporal: boolean;
}

function pausedBecause(target: Omit<ScheduleTarget, 'taskQueue' | 'deploymentId'>): string {
  if (target.pausedNote !== null) return `paused by an operator or after failed runs ('${target.pausedNote}')`;
  if (!target.activation.enabled) return 'disabled by its configuration (enabled: false)';
  return 'paused by its configuration';
}

/**
 * Compares the live schedule with what `ensureSchedule` will set: a schedule resumed or paused in
 * the Temporal UI, or one that is missing, is a change the plan must show, not a silent undo.
 * `previous` is what is stored now: a schedule in the state it sets is merely about to follow a
 * configuration change, which the plan shows already. A schedule another deployment owns is not
 * ours to compare (ensureSchedule refuses it).
 */
export async function scheduleDrift(
  client: Client,
  target: Omit<ScheduleTarget, 'taskQueue'>,
  previous?: Omit<ScheduleTarget, 'taskQueue' | 'deploymentId'>,
): Promise<ScheduleDrift | undefined> {
  const activationId = target.activation.id;
  let description;
  try {
    description = await client.schedule.getHandle(scheduleIdFor(activationId)).describe();
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) return { activationId, description: 'missing in Temporal: will be created', resumedInTemporal: false };
    throw error;
  }
  const owner = ownerOf((description.action as { memo?: Record<string, unknown> }).memo);
  if (owner !== undefined && owner !== target.deploymentId) return undefined;
  const wanted = pauseState(target);
  if (previous !== undefined && pauseState(previous).paused === description.state.paused) return undefined;
  if (wanted.paused && !description.state.paused) {
    return { activationId, description: `running in Temporal, ${pausedBecause(target)}: will be paused again`, resumedInTemporal: true };
  }
  if (!wanted.paused && description.state.paused) {
    const note = description.state.note ? ` ('${description.state.note}')` : '';
    return { activationId, description: `paused in Temporal${note}, not by its configuration nor by \`cli pause\`: will be resumed`, resumedInTemporal: false };
  }
  return undefined;
}

/** What the note of a schedule paused again by `apply`, after someone resumed it in Temporal, adds. */
export function pausedAgainNote(target: Omit<ScheduleTarget, 'taskQueue' | 'deploymentId'>, now: Date = new Date()): string {
  const undo = target.pausedNote !== null ? '`cli resume` resumes it' : 'change the configuration and apply to resume it';
  return `paused again by apply at ${now.toISOString().replace(/\.\d+Z$/, 'Z')}: it had been resumed in Temporal, but it is ${pausedBecause(target)}; ${undo}`;
}

/**
 * Deletes the activation's schedule, unless another deployment (another app database) owns it:
 * that one is left alone, as ensureSchedule leaves it alone.
 */
export async function deleteSchedule(client: Client, activationId: string, deploymentId?: string): Promise<'deleted' | 'missing' | 'foreign'> {
  const handle = client.schedule.getHandle(scheduleIdFor(activationId));
  try {
    const owner = ownerOf((await handle.describe()).memo);
    if (deploymentId !== undefined && owner !== undefined && owner !== deploymentId) return 'foreign';
    await handle.delete();
    return 'deleted';
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) return 'missing';
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
