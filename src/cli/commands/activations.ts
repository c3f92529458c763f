import { withServices, type CliServices } from '../context.ts';
import { CliError, colors, printFields, printJson, printTable, relativeTime, statusColor } from '../output.ts';
import {
  NotFoundError,
  deleteActivation,
  deleteDestination,
  getDestination,
  listActivations,
  listDestinations,
  loadActivation,
  setPausedNote,
  type ActivationListing,
} from '../../db/config-store.ts';
import { listRunSummaries } from '../../db/runs.ts';
import type { ActivationConfig, RunSummary } from '../../domain/index.ts';
import { readDeployment } from '../../db/deployment.ts';
import { deleteSchedule, describeSchedule, type ScheduleState } from '../../temporal/schedules.ts';
import { STOP_GRACE_MS, stopRunsOf } from '../../temporal/stop-runs.ts';

function sourceText(activation: ActivationConfig): string {
  const { source } = activation;
  const where = source.warehouse === undefined ? '' : `${source.warehouse}: `;
  if (source.kind === 'query') return `${where}query`;
  if (source.kind === 'files') return `${where}${source.format} files ${source.path}`;
  return `${where}${source.kind} ${source.schema}.${source.name}`;
}

function scheduleText(activation: ActivationConfig): string {
  return activation.schedule.cron ? `cron ${activation.schedule.cron}` : `every ${activation.schedule.every ?? '?'}`;
}

function stateText(schedule: ScheduleState | undefined | null): string {
  if (schedule === null) return colors.dim('unknown (Temporal unreachable)');
  if (schedule === undefined) return colors.yellow('no schedule (run sync-schedules)');
  return schedule.paused ? `${colors.yellow('paused')}${schedule.note ? colors.dim(`: ${schedule.note}`) : ''}` : colors.green('active');
}

/** A running run's counts are the ledger's so far (see listRunSummaries): said so, not passed off as a result. */
export function resultText(run: RunSummary): string {
  const counts = `${run.newRows} new → ${run.sent} sent, ${run.rejected} rejected, ${run.failed} failed`;
  return run.status === 'running' ? `${counts} so far` : counts;
}

function warningsText(run: RunSummary): string {
  return run.warnings.length === 0 ? '' : colors.yellow(`${run.warnings.length} warning${run.warnings.length === 1 ? '' : 's'}`);
}

/**
 * How long a run took. A skipped run did no work, and its two timestamps come from two clocks
 * (the app's and the database's), so it has none; neither has a run whose clocks disagree.
 */
export function durationText(run: Pick<RunSummary, 'status' | 'startedAt' | 'finishedAt'>): string {
  if (!run.finishedAt) return colors.dim('running');
  const ms = Date.parse(run.finishedAt) - Date.parse(run.startedAt);
  if (run.status === 'skipped' || !Number.isFinite(ms) || ms < 0) return '—';
  return `${(ms / 1000).toFixed(1)}s`;
}

/** What `show` says instead of the next run when the schedule will not start one. */
export function nextRunText(schedule: ScheduleState | undefined | null): string {
  if (schedule === null) return colors.dim('unknown (Temporal unreachable)');
  if (schedule === undefined) return colors.yellow('none: no schedule (run sync-schedules)');
  if (schedule.paused) return `${colors.yellow('paused')} (${schedule.note ? `reason: ${schedule.note}` : 'no reason given'}; \`resume\` brings it back)`;
  return schedule.nextRunAt ? `${schedule.nextRunAt} (${relativeTime(schedule.nextRunAt)})` : '?';
}

async function scheduleOf(services: CliServices, activationId: string): Promise<ScheduleState | undefined | null> {
  try {
    return await describeSchedule(services.temporal, activationId);
  } catch {
    return null;
  }
}

interface ActivationRow {
  activation: ActivationListing;
  schedule: ScheduleState | undefined | null;
  lastRun: RunSummary | undefined;
}

async function activationRows(services: CliServices): Promise<ActivationRow[]> {
  const activations = await listActivations(services.db);
  return await Promise.all(
    activations.map(async (activation) => ({
      activation,
      schedule: await scheduleOf(services, activation.id),
      lastRun: (await listRunSummaries(services.db, { activationId: activation.id, withoutSkipped: true, limit: 1 }))[0],
    })),
  );
}

export async function listCommand(options: { json?: boolean }): Promise<void> {
  await withServices(async (services) => {
    const destinations = await listDestinations(services.db);
    const rows = await activationRows(services);
    if (options.json) {
      printJson({
        destinations: destinations.map((destination) => ({
          id: destination.id,
          businessUnitId: destination.businessUnitId,
          invitationType: destination.invitationType,
          rateLimit: destination.rateLimit,
        })),
        activations: rows.map(({ activation, schedule, lastRun }) => ({
          id: activation.id,
          destinationId: activation.destinationId,
          source: activation.config.source,
          schedule: activation.config.schedule,
          state: schedule ?? null,
          lastRun: lastRun ?? null,
        })),
      });
      return;
    }
    console.log(colors.bold('Destinations'));
    printTable(destinations, [
      { header: 'id', value: (destination) => destination.id, keepWords: true },
      { header: 'business unit', value: (destination) => destination.businessUnitId },
      { header: 'type', value: (destination) => destination.invitationType },
      { header: 'rate limit', value: (destination) => `${destination.rateLimit.calls} / ${destination.rateLimit.perSeconds}s` },
      { header: 'activations', value: (destination) => rows.filter((row) => row.activation.destinationId === destination.id).length },
    ]);
    console.log(colors.bold('Activations'));
    printTable(
      rows,
      [
        { header: 'id', value: (row) => row.activation.id, keepWords: true },
        { header: 'destination', value: (row) => row.activation.destinationId },
        { header: 'source', value: (row) => sourceText(row.activation.config) },
        { header: 'schedule', value: (row) => scheduleText(row.activation.config) },
        { header: 'state', value: (row) => stateText(row.schedule) },
        { header: 'next run', value: (row) => (row.schedule && !row.schedule.paused ? relativeTime(row.schedule.nextRunAt) : '') },
        {
          header: 'last run',
          value: (row) =>
            row.lastRun
              ? `${statusColor(row.lastRun.status)} ${relativeTime(row.lastRun.finishedAt ?? row.lastRun.startedAt)}: ${resultText(row.lastRun)}${row.lastRun.warnings.length > 0 ? `, ${warningsText(row.lastRun)}` : ''}`
              : colors.dim('never'),
        },
      ],
      '(none: add one with `apply <file>`)',
    );
  });
}

async function ledgerCounts(services: CliServices, activationId: string): Promise<Record<string, number>> {
  const rows = await services.db
    .selectFrom('app.ledger')
    .select((eb) => ['status', eb.fn.countAll<number>().as('count')])
    .where('activation_id', '=', activationId)
    .groupBy('status')
    .execute();
  return Object.fromEntries(rows.map((row) => [row.status, Number(row.count)]));
}

async function showActivation(services: CliServices, id: string, json: boolean): Promise<void> {
  const stored = await loadActivation(services.db, id);
  const schedule = await scheduleOf(services, id);
  const runs = await listRunSummaries(services.db, { activationId: id, limit: 5 });
  const counts = await ledgerCounts(services, id);
  const facts = await services.db.selectFrom('app.activations').select(['last_full_scan_at']).where('id', '=', id).executeTakeFirstOrThrow();
  if (json) {
    printJson({ activation: stored.activation, destination: stored.destination.id, schedule, watermark: stored.watermark, lastFullScanAt: facts.last_full_scan_at, ledger: counts, recentRuns: runs });
    return;
  }
  const { activation } = stored;
  printFields([
    ['activation', activation.id + (activation.name ? ` (${activation.name})` : '')],
    ['destination', `${stored.destination.id} → business unit ${stored.resolved.businessUnitId}, ${stored.resolved.invitationType} invitations`],
    ['source', activation.source.kind === 'query' ? `query: ${activation.source.sql}` : sourceText(activation)],
    ['primary key', activation.primaryKey.join(', ')],
    ['cursor', activation.cursor ? `${activation.cursor.column} (look-back ${activation.cursor.lookback}, full scan every ${activation.cursor.fullScanEvery})` : 'none: every run diffs the whole segment'],
    ['mapping', Object.entries(activation.mapping).map(([field, column]) => `${field} ← ${String(column)}`).join(', ')],
    ['schedule', `${scheduleText(activation)}, ${stateText(schedule)}`],
    ['next run', nextRunText(schedule)],
    ['watermark', stored.watermark ?? 'none'],
    ['last full scan', facts.last_full_scan_at?.toISOString() ?? 'never'],
    ['ledger', Object.entries(counts).map(([status, count]) => `${statusColor(status)} ${count}`).join(', ') || 'empty'],
  ]);
  console.log('');
  console.log(colors.bold('Recent runs'));
  printRuns(runs);
}

/** The runs table, then each warning in full (they hold counts only, never a row's values). */
export function printRuns(runs: readonly RunSummary[]): void {
  printTable(runs, [
    { header: 'run', value: (run) => run.runId, keepWords: true },
    { header: 'activation', value: (run) => run.activationId, keepWords: true },
    { header: 'status', value: (run) => run.status, style: (text) => statusColor(text) },
    { header: 'started', value: (run) => run.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z') },
    { header: 'took', value: (run) => durationText(run) },
    { header: 'warnings', value: (run) => warningsText(run) },
    { header: 'scan', value: (run) => (run.status === 'skipped' ? '' : `${run.fullScan ? 'full' : 'cursor'}, ${run.sourceRows} rows`) },
    { header: 'result', value: (run) => (run.status === 'skipped' ? '' : resultText(run)) },
    { header: 'reason', value: (run) => run.error ?? '' },
  ]);
  const warned = runs.filter((run) => run.warnings.length > 0);
  if (warned.length === 0) return;
  console.log(colors.yellow('Warnings'));
  for (const run of warned) for (const warning of run.warnings) console.log(`  run ${run.runId}: ${warning}`);
}

async function showDestination(services: CliServices, id: string, json: boolean): Promise<void> {
  const destination = await getDestination(services.db, id);
  const users = (await listActivations(services.db)).filter((activation) => activation.destinationId === id).map((activation) => activation.id);
  if (json) {
    printJson({ destination, activations: users });
    return;
  }
  printFields([
    ['destination', destination.id + (destination.name ? ` (${destination.name})` : '')],
    ['business unit', destination.businessUnitId],
    ['invitation type', destination.invitationType],
    ['credentials', Object.entries(destination.credentials).map(([name, value]) => `${name}=${String(value)}`).join(', ')],
    ['rate limit', `${destination.rateLimit.calls} calls per ${destination.rateLimit.perSeconds}s`],
    ['circuit breaker', `stops a run after ${destination.circuitBreaker.failuresInARow} Trustpilot failures in a row`],
    ['defaults', Object.entries(destination.defaults).map(([name, value]) => `${name}=${String(value)}`).join(', ') || 'none (Trustpilot account defaults)'],
    ['alerts', destination.alerts ? `webhook from ${destination.alerts.webhookUrlEnv}` : 'none'],
    ['activations', users.join(', ') || 'none'],
  ]);
}

export async function showCommand(id: string, options: { json?: boolean }): Promise<void> {
  await withServices(async (services) => {
    const isActivation = await services.db.selectFrom('app.activations').select('id').where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
    if (isActivation) return await showActivation(services, id, options.json ?? false);
    const isDestination = await services.db.selectFrom('app.destinations').select('id').where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
    if (isDestination) return await showDestination(services, id, options.json ?? false);
    const known = [...(await listActivations(services.db)).map((activation) => activation.id), ...(await listDestinations(services.db)).map((destination) => destination.id)];
    throw new NotFoundError(`Activation or destination '${id}' does not exist (${known.length > 0 ? `known: ${known.join(', ')}` : 'none exists yet'})`);
  });
}

export async function pauseCommand(activationId: string, options: { reason: string; json?: boolean }): Promise<void> {
  await withServices(async (services) => {
    await setPausedNote(services.db, activationId, options.reason);
    await services.client.ensureSchedule(activationId);
    // The schedule shows the operator's reason even where the configuration pauses it too.
    const schedule = await describeSchedule(services.temporal, activationId);
    const note = schedule?.note ?? options.reason;
    const { activation } = await loadActivation(services.db, activationId);
    const alsoByConfiguration = !activation.enabled || activation.schedule.paused;
    if (options.json) printJson({ activationId, paused: true, note, pausedByConfiguration: alsoByConfiguration });
    else {
      console.log(`${colors.yellow('paused')} ${activationId}: ${note}`);
      if (alsoByConfiguration) console.log(colors.dim(`  its configuration pauses it too (${activation.enabled ? 'schedule.paused' : 'enabled: false'}): \`resume\` alone will not run it`));
    }
  });
}

export async function resumeCommand(activationId: string, options: { json?: boolean } = {}): Promise<void> {
  await withServices(async (services) => {
    await setPausedNote(services.db, activationId, null);
    const stored = await loadActivation(services.db, activationId);
    await services.client.ensureSchedule(activationId);
    if (!stored.activation.enabled || stored.activation.schedule.paused) {
      throw new CliError(`${activationId} stays paused by its configuration (${stored.activation.enabled ? 'schedule.paused' : 'enabled: false'}); change it and apply`);
    }
    const schedule = await describeSchedule(services.temporal, activationId);
    if (options.json) printJson({ activationId, paused: false, nextRunAt: schedule?.nextRunAt ?? null });
    else console.log(`${colors.green('resumed')} ${activationId}${schedule?.nextRunAt ? `: next run ${relativeTime(schedule.nextRunAt)}` : ''}`);
  });
}

export async function deleteCommand(kind: 'activation' | 'destination', id: string, options: { purgeLedger?: boolean; yes?: boolean; json?: boolean }): Promise<void> {
  if (!options.yes) {
    throw new CliError(
      kind === 'activation'
        ? `deleting activation ${id} removes its schedule${options.purgeLedger ? ' and its ledger (re-created, it would invite every row again)' : ' (its ledger is kept)'}: add --yes to proceed`
        : `deleting destination ${id}: add --yes to proceed`,
    );
  }
  await withServices(async (services) => {
    if (kind === 'activation') {
      const deployment = await readDeployment(services.db);
      // Marked deleted first: from then on no send of it takes a row, whatever its runs are doing.
      await deleteActivation(services.db, id, { purgeLedger: options.purgeLedger ?? false });
      const schedule = await deleteSchedule(services.temporal, id, deployment?.deploymentId);
      const stopped = await stopRunsOf(services, id, { reason: `activation ${id} was deleted (cli delete)`, graceMs: STOP_GRACE_MS });
      if (options.json) printJson({ deleted: 'activation', id, ledgerKept: !options.purgeLedger, schedule, stoppedRuns: stopped });
      else {
        const scheduleText = schedule === 'foreign' ? 'its schedule belongs to another deployment and was left alone' : 'and its schedule';
        console.log(`deleted activation ${id} ${scheduleText}${options.purgeLedger ? ', with its ledger and runs' : '; its ledger is kept (apply it again to resume without resending)'}`);
        for (const run of stopped) {
          console.log(`  stopped ${run.runId === null ? 'workflow' : `run ${run.runId}`} (${run.workflowId}): ${run.how === 'cancelled' ? 'its calls in flight finished' : 'terminated'}; its unsent rows stay in the ledger`);
        }
      }
    } else {
      await deleteDestination(services.db, id);
      if (options.json) printJson({ deleted: 'destination', id });
      else console.log(`deleted destination ${id}`);
    }
  });
}
