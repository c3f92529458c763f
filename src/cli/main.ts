import { readFile } from 'node:fs/promises';
import { Command, InvalidArgumentError } from 'commander';
import { InvitationsClient } from '../client.ts';
import { readEnv } from '../config/env.ts';
import { ConfigValidationError, NotFoundError, getDestination, saveActivation, saveDestination } from '../db/config-store.ts';
import { destinationConfigSchema, parseConfigs, type DestinationConfig } from '../domain/index.ts';
import { resolveCredentials } from '../activities/credentials.ts';
import { createTrustpilotClient, isTrustpilotError } from '../trustpilot/index.ts';
import { openServices, type Services } from '../runtime/services.ts';
import { formatRunLine } from '../dev/run-watcher.ts';
import type { RunSummary } from '../workflows/types.ts';

async function withClient<T>(action: (client: InvitationsClient, services: Services) => Promise<T>): Promise<T> {
  const env = readEnv();
  const services = await openServices(env, { migrate: true });
  try {
    return await action(new InvitationsClient({ temporal: services.temporal, db: services.db, taskQueue: env.TEMPORAL_TASK_QUEUE }), services);
  } finally {
    await services.close();
  }
}

function printSummary(summary: RunSummary, json: boolean): void {
  if (json) console.log(JSON.stringify(summary, null, 2));
  else console.log(formatRunLine(summary));
}

function positiveInt(value: string): number {
  const parsed = Number.parseInt(value, 10);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('must be a positive integer');
  return parsed;
}

interface ConfigFile {
  destinations?: unknown[];
  activations?: unknown[];
}

function asConfigFile(content: unknown, file: string): ConfigFile {
  if (typeof content !== 'object' || content === null) throw new Error(`${file}: expected a JSON object`);
  if ('destinations' in content || 'activations' in content) return content as ConfigFile;
  if ('destinationId' in content) return { activations: [content] };
  return { destinations: [content] };
}

const program = new Command()
  .name('trustpilot-invitations')
  .description('Send Trustpilot review invitations from warehouse segments')
  .showHelpAfterError();

program
  .command('run')
  .description('start a run of an activation now and wait for its summary')
  .argument('<activationId>')
  .option('--json', 'print the summary as JSON')
  .action(async (activationId: string, options: { json?: boolean }) => {
    const summary = await withClient((client) => client.runNow(activationId));
    printSummary(summary, options.json ?? false);
    if (summary.status === 'failed') process.exitCode = 2;
  });

program
  .command('apply')
  .description('validate and save destinations and activations from JSON files, and sync their schedules')
  .argument('<files...>')
  .action(async (files: string[]) => {
    await withClient(async (client, services) => {
      for (const file of files) {
        const config = asConfigFile(JSON.parse(await readFile(file, 'utf8')) as unknown, file);
        for (const destination of config.destinations ?? []) {
          const saved = await saveDestination(services.db, destination);
          console.log(`destination ${saved.id}: saved`);
        }
        for (const activation of config.activations ?? []) {
          const saved = await saveActivation(services.db, activation);
          await client.ensureSchedule(saved.activation.id);
          console.log(`activation ${saved.activation.id}: saved, schedule in sync`);
        }
      }
    });
  });

program
  .command('runs')
  .description('list the recent runs of an activation')
  .argument('<activationId>')
  .option('--limit <n>', 'how many', positiveInt, 20)
  .option('--json', 'print JSON')
  .action(async (activationId: string, options: { limit: number; json?: boolean }) => {
    const runs = await withClient((client) => client.recentRuns(activationId, options.limit));
    if (options.json) console.log(JSON.stringify(runs, null, 2));
    else for (const run of runs) console.log(formatRunLine(run));
  });

const LEDGER_STATUSES = ['pending', 'sending', 'sent', 'failed', 'rejected', 'baseline', 'abandoned'] as const;

program
  .command('rows')
  .description("list an activation's ledger rows: source key, status, attempts and the reason of the last failure")
  .argument('<activationId>')
  .option('--status <status>', `only rows in this status (${LEDGER_STATUSES.join(', ')})`, (value: string) => {
    if (!(LEDGER_STATUSES as readonly string[]).includes(value)) throw new InvalidArgumentError(`must be one of ${LEDGER_STATUSES.join(', ')}`);
    return value as (typeof LEDGER_STATUSES)[number];
  })
  .option('--limit <n>', 'how many', positiveInt, 50)
  .option('--json', 'print JSON')
  .action(async (activationId: string, options: { status?: (typeof LEDGER_STATUSES)[number]; limit: number; json?: boolean }) => {
    const rows = await withClient((client) => client.ledgerRows(activationId, { status: options.status, limit: options.limit }));
    if (options.json) console.log(JSON.stringify(rows, null, 2));
    else console.table(rows.map((row) => ({ key: row.rowKey, status: row.status, attempts: row.attempts, runs: row.runsAttempted, inDoubt: row.inDoubt, reason: row.error ?? '' })));
  });

function trustpilotFor(destination: DestinationConfig) {
  const env = readEnv();
  return createTrustpilotClient({
    apiUrl: env.TRUSTPILOT_API_URL,
    invitationsApiUrl: env.TRUSTPILOT_INVITATIONS_API_URL,
    credentials: resolveCredentials(destination, process.env),
  });
}

program
  .command('templates')
  .description("list the destination's Trustpilot invitation templates (ids for serviceTemplateId / productTemplateId)")
  .argument('<destinationId>')
  .option('--json', 'print JSON')
  .action(async (destinationId: string, options: { json?: boolean }) => {
    await withClient(async (_client, services) => {
      const destination = await getDestination(services.db, destinationId);
      const templates = await trustpilotFor(destination).listTemplates(destination.businessUnitId);
      if (options.json) console.log(JSON.stringify(templates, null, 2));
      else console.table(templates);
    });
  });

program
  .command('erase')
  .description("GDPR erasure: delete the invitation data Trustpilot holds for these customers (irreversible)")
  .argument('<destinationId>')
  .requiredOption('--emails-file <path>', 'a file with one email address per line (kept out of shell history and logs)')
  .option('--yes', 'confirm that the erasure is intended')
  .action(async (destinationId: string, options: { emailsFile: string; yes?: boolean }) => {
    const emails = (await readFile(options.emailsFile, 'utf8'))
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    if (emails.length === 0) throw new Error(`${options.emailsFile} lists no email address`);
    if (!options.yes) throw new Error(`Erasing Trustpilot data for ${emails.length} customer(s) cannot be undone: add --yes to proceed`);
    await withClient(async (_client, services) => {
      const destination = await getDestination(services.db, destinationId);
      await trustpilotFor(destination).deleteInvitationData(destination.businessUnitId, { customerEmails: emails });
      console.log(`Trustpilot accepted the erasure request for ${emails.length} customer(s) of business unit ${destination.businessUnitId}`);
    });
  });

program
  .command('validate')
  .description('check destination and activation JSON files without saving them; lists every problem')
  .argument('<files...>')
  .action(async (files: string[]) => {
    let problems = 0;
    for (const file of files) {
      const config = asConfigFile(JSON.parse(await readFile(file, 'utf8')) as unknown, file);
      const destinations = new Map<string, unknown>();
      for (const destination of config.destinations ?? []) {
        const parsed = destinationConfigSchema.safeParse(destination);
        if (parsed.success) destinations.set(parsed.data.id, destination);
        else {
          problems += parsed.error.issues.length;
          for (const issue of parsed.error.issues) console.log(`${file}: destination.${issue.path.join('.')}: ${issue.message}`);
        }
      }
      for (const activation of config.activations ?? []) {
        const destinationId = (activation as { destinationId?: unknown }).destinationId;
        const result = parseConfigs(destinations.get(String(destinationId)) ?? {}, activation);
        if (!result.ok) {
          problems += result.issues.length;
          for (const issue of result.issues) console.log(`${file}: ${issue.path}: ${issue.message}`);
        }
      }
    }
    if (problems > 0) {
      console.log(`${problems} problem(s)`);
      process.exitCode = 1;
    } else console.log('valid');
  });

program
  .command('trigger')
  .description("trigger the activation's schedule now (skipped if a run is in progress)")
  .argument('<activationId>')
  .action(async (activationId: string) => {
    await withClient((client) => client.triggerSchedule(activationId));
    console.log(`schedule of ${activationId} triggered`);
  });

program
  .command('sync-schedules')
  .description('create or update the Temporal schedule of every activation')
  .action(async () => {
    const ids = await withClient((client) => client.ensureAllSchedules());
    console.log(`schedules in sync: ${ids.join(', ') || '(no activations)'}`);
  });

program.parseAsync().catch((error: unknown) => {
  if (error instanceof ConfigValidationError || error instanceof NotFoundError) console.error(error.message);
  else if (isTrustpilotError(error)) console.error(`Error: ${error.message}${error.hint ? `\n  ${error.hint}` : ''}`);
  else console.error(error instanceof Error ? `Error: ${error.message}` : String(error));
  process.exit(1);
});
