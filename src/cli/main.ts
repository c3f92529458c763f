import { Argument, Command, InvalidArgumentError, Option } from 'commander';

/**
 * The operator's command line. Each command's module is loaded only when that command runs, so
 * `--help` and quick commands do not pay for the Temporal client or the database driver.
 */

const LEDGER_STATUSES = ['new', 'pending', 'sending', 'sent', 'failed', 'rejected', 'baseline', 'abandoned'] as const;
const RUN_STATUSES = ['running', 'succeeded', 'failed', 'skipped', 'abandoned'] as const;

function positiveInt(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('must be a positive whole number');
  return parsed;
}

function keyList(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((key) => key.trim()).filter((key) => key !== '')];
}

function example(command: Command, ...lines: string[]): Command {
  return command.addHelpText('after', `\nExample${lines.length > 1 ? 's' : ''}:\n${lines.map((line) => `  $ npm run cli -- ${line}`).join('\n')}\n`);
}

const program = new Command()
  .name('cli')
  .description(
    'Operate Trustpilot review invitations: configure destinations and activations, run them, inspect runs and rows.\n' +
      'While `npm start` runs, every command reaches it with no variable set; otherwise set DATABASE_URL, WAREHOUSE_DATABASE_URL and TEMPORAL_ADDRESS.',
  )
  .showHelpAfterError('(add --help for usage and an example)')
  .configureHelp({ sortSubcommands: false });

// ---- configuration ----------------------------------------------------------------------------

example(
  program
    .command('validate')
    .description('check destination and activation files (and, with a database, each activation against its source) without saving anything')
    .argument('<paths...>', 'JSON files, or folders of them (their .json files; a path with none is refused)')
    .option('--json', 'print the result as JSON'),
  'validate examples/',
  'validate my-activation.json --json',
).action(async (paths: string[], options: { json?: boolean }) => {
  const { validateCommand } = await import('./commands/config.ts');
  await validateCommand(paths, options);
});

example(
  program
    .command('apply')
    .description('validate, show the plan (create / change / unchanged / delete), then save everything and sync schedules, all or nothing')
    .argument('<paths...>', 'JSON files, or folders of them (their .json files; a path with none is refused)')
    .option('--prune', 'delete destinations and activations the files no longer name (ledgers are kept)')
    .option('--yes', 'confirm a --prune that deletes more than 3 destinations and activations (without it, the plan is shown and nothing changes)')
    .option('--json', 'print the result as JSON'),
  'apply examples/',
  'apply config/ --prune',
  'apply config/ --prune --yes',
).action(async (paths: string[], options: { prune?: boolean; yes?: boolean; json?: boolean }) => {
  const { applyCommand } = await import('./commands/config.ts');
  await applyCommand(paths, options);
});

example(
  program.command('list').description('destinations and activations: schedule state, next run, last run').option('--json', 'print JSON'),
  'list',
).action(async (options: { json?: boolean }) => {
  const { listCommand } = await import('./commands/activations.ts');
  await listCommand(options);
});

example(
  program
    .command('show')
    .description('one activation (configuration, schedule, recent runs, ledger counts) or destination')
    .argument('<id>', 'an activation or destination id')
    .option('--json', 'print JSON'),
  'show demo-orders',
).action(async (id: string, options: { json?: boolean }) => {
  const { showCommand } = await import('./commands/activations.ts');
  await showCommand(id, options);
});

example(
  program
    .command('pause')
    .description("pause an activation's schedule (kept across apply until `resume`)")
    .argument('<activation>')
    .option('--reason <text>', 'shown on the schedule in the Temporal UI', 'paused by an operator')
    .option('--json', 'print JSON'),
  'pause demo-orders --reason "catalogue upload pending"',
).action(async (activation: string, options: { reason: string; json?: boolean }) => {
  const { pauseCommand } = await import('./commands/activations.ts');
  await pauseCommand(activation, options);
});

example(program.command('resume').description("resume an activation's schedule").argument('<activation>').option('--json', 'print JSON'), 'resume demo-orders').action(
  async (activation: string, options: { json?: boolean }) => {
    const { resumeCommand } = await import('./commands/activations.ts');
    await resumeCommand(activation, options);
  },
);

example(
  program
    .command('delete')
    .description('delete an activation (and its schedule) or a destination; an activation\'s ledger is kept unless --purge-ledger')
    .addArgument(new Argument('<kind>', 'activation or destination').choices(['activation', 'destination']))
    .argument('<id>')
    .option('--purge-ledger', 'also delete the activation\'s ledger and runs: re-created later, it would invite every row again')
    .option('--yes', 'confirm')
    .option('--json', 'print JSON'),
  'delete activation old-orders --yes',
).action(async (kind: 'activation' | 'destination', id: string, options: { purgeLedger?: boolean; yes?: boolean; json?: boolean }) => {
  const { deleteCommand } = await import('./commands/activations.ts');
  await deleteCommand(kind, id, options);
});

// ---- runs -------------------------------------------------------------------------------------

example(
  program
    .command('run')
    .description('run an activation now; waits with live progress (JSON lines when not on a terminal) and prints the summary')
    .argument('<activation>')
    .option('--no-wait', 'print the run and workflow ids and return')
    .option('--json', 'print only the final summary, as JSON'),
  'run demo-orders',
  'run demo-orders --no-wait',
).action(async (activation: string, options: { wait: boolean; json?: boolean }) => {
  const { runCommand } = await import('./commands/runs.ts');
  await runCommand(activation, options);
});

example(
  program
    .command('trigger')
    .description("start the activation's schedule now (skipped if a run is in progress); prints the workflow id")
    .argument('<activation>')
    .option('--json', 'print JSON'),
  'trigger demo-orders',
).action(async (activation: string, options: { json?: boolean }) => {
  const { triggerCommand } = await import('./commands/runs.ts');
  await triggerCommand(activation, options);
});

example(
  program
    .command('runs')
    .description('recent runs, newest first')
    .argument('[activation]', 'only this activation')
    .addOption(new Option('--status <status>', 'only runs in this status').choices(RUN_STATUSES))
    .option('--limit <n>', 'how many', positiveInt, 20)
    .option('--json', 'print JSON'),
  'runs demo-orders --limit 5',
  'runs --status failed',
).action(async (activation: string | undefined, options: { status?: (typeof RUN_STATUSES)[number]; limit: number; json?: boolean }) => {
  const { runsCommand } = await import('./commands/runs.ts');
  await runsCommand(activation, options);
});

example(
  program.command('progress').description("the running run's live progress").argument('<activation>').option('--json', 'print JSON'),
  'progress demo-orders',
).action(async (activation: string, options: { json?: boolean }) => {
  const { progressCommand } = await import('./commands/runs.ts');
  await progressCommand(activation, options);
});

example(
  program
    .command('recover')
    .description('end a stuck run (e.g. after an incompatible deploy): terminates its workflow and releases the run lock; its rows go to the next run')
    .argument('<activation>')
    .option('--yes', 'confirm')
    .option('--json', 'print JSON'),
  'recover demo-orders --yes',
).action(async (activation: string, options: { yes?: boolean; json?: boolean }) => {
  const { recoverCommand } = await import('./commands/runs.ts');
  await recoverCommand(activation, options);
});

// ---- rows -------------------------------------------------------------------------------------

example(
  program
    .command('rows')
    .description("an activation's ledger rows: source key, status, attempts, reason (never the row's data)")
    .argument('<activation>')
    .addOption(new Option('--status <status>', 'only rows in this status').choices(LEDGER_STATUSES))
    .option('--run <id>', 'only rows last handled by this run', positiveInt)
    .option('--key <keys>', 'only these source keys (comma-separated, repeatable)', keyList)
    .option('--limit <n>', 'how many (the output says when there are more)', positiveInt, 50)
    .option('--json', 'print JSON'),
  'rows demo-orders --status rejected',
  'rows demo-orders --key ORD-000013',
).action(
  async (activation: string, options: { status?: (typeof LEDGER_STATUSES)[number]; run?: number; key?: string[]; limit: number; json?: boolean }) => {
    const { rowsCommand } = await import('./commands/rows.ts');
    await rowsCommand(activation, options);
  },
);

example(
  program
    .command('requeue')
    .description('put failed, abandoned or rejected rows back in line for the next run (rejected rows are re-read and rebuilt)')
    .argument('<activation>')
    .addOption(new Option('--status <status>', 'which rows').choices(['failed', 'abandoned', 'rejected']).makeOptionMandatory())
    .option('--keys <keys>', 'only these source keys (comma-separated); all or nothing: a key that matches no such row refuses the command', keyList)
    .option('--json', 'print JSON'),
  'requeue demo-orders --status abandoned',
  'requeue demo-orders --status rejected --keys ORD-000013,ORD-000110',
).action(async (activation: string, options: { status: 'failed' | 'abandoned' | 'rejected'; keys?: string[]; json?: boolean }) => {
  const { requeueCommand } = await import('./commands/rows.ts');
  await requeueCommand(activation, options);
});

example(
  program
    .command('dry-run')
    .description('what a run would do now, sending and recording nothing: new rows, rejections by reason, example payloads (masked)')
    .argument('<activation>')
    .option('--sample <n>', 'new rows to build and validate', positiveInt, 1000)
    .option('--json', 'print JSON'),
  'dry-run demo-orders',
).action(async (activation: string, options: { sample: number; json?: boolean }) => {
  const { dryRunCommand } = await import('./commands/preview.ts');
  await dryRunCommand(activation, options);
});

example(
  program
    .command('test-row')
    .description('build and validate one row\'s invitation; with --send, send exactly that one and record it in the ledger as a run would')
    .argument('<activation>')
    .requiredOption('--key <key>', "the row's primary key (a JSON array of texts for a composite key)")
    .option('--send', 'send it to Trustpilot')
    .option('--json', 'print JSON'),
  'test-row demo-orders --key ORD-000042',
  'test-row demo-orders --key ORD-000042 --send',
).action(async (activation: string, options: { key: string; send?: boolean; json?: boolean }) => {
  const { testRowCommand } = await import('./commands/preview.ts');
  await testRowCommand(activation, options);
});

// ---- Trustpilot -------------------------------------------------------------------------------

example(
  program
    .command('check')
    .description("prove a destination's credentials and ids: obtains a token, confirms the business unit, lists its templates")
    .argument('<destination>')
    .option('--json', 'print JSON'),
  'check demo-trustpilot',
).action(async (destination: string, options: { json?: boolean }) => {
  const { checkCommand } = await import('./commands/trustpilot.ts');
  await checkCommand(destination, options);
});

example(
  program
    .command('erase')
    .description('GDPR erasure: delete the invitation data Trustpilot holds for these customers (irreversible)')
    .argument('<destination>')
    .requiredOption('--emails-file <path>', 'a file with one email address per line (kept out of shell history and logs)')
    .option('--yes', 'confirm that the erasure is intended')
    .option('--json', 'print JSON'),
  'erase acme-trustpilot --emails-file erase.txt --yes',
).action(async (destination: string, options: { emailsFile: string; yes?: boolean; json?: boolean }) => {
  const { eraseCommand } = await import('./commands/trustpilot.ts');
  await eraseCommand(destination, options);
});

// ---- set-up -----------------------------------------------------------------------------------

example(
  program
    .command('sync-schedules')
    .description("(re)create every activation's Temporal schedule; reports a failing one by id and carries on")
    .option('--json', 'print JSON'),
  'sync-schedules',
).action(async (options: { json?: boolean }) => {
  const { syncSchedulesCommand } = await import('./commands/admin.ts');
  await syncSchedulesCommand(options);
});

example(
  program
    .command('register-search-attributes')
    .description('register the search attributes runs carry on the Temporal namespace (once per cluster)')
    .option('--json', 'print JSON'),
  'register-search-attributes',
).action(async (options: { json?: boolean }) => {
  const { registerSearchAttributesCommand } = await import('./commands/admin.ts');
  await registerSearchAttributesCommand(options);
});

example(
  program
    .command('reader-sql')
    .description('print the SQL that creates the least-privilege reader role segments are read with, granted what the activations read')
    .argument('[paths...]', 'activation files or folders, saved or not (default: the stored activations)')
    .option(
      '--role <name>',
      'the role to create (default: trustpilot_segment_reader); with --per-activation, the start of each role\'s name (default: trustpilot_reader)',
      (value: string) => {
        if (value.trim() === '') throw new InvalidArgumentError('must not be empty');
        return value.trim();
      },
    )
    .option('--per-activation', 'one role per activation, each granted only what its activation reads')
    .option('--database <name>', 'the warehouse database')
    .option('--json', 'print JSON'),
  'reader-sql --database analytics',
  'reader-sql examples/my-orders.json',
  'reader-sql --per-activation',
).action(async (paths: string[], options: { role?: string; perActivation?: boolean; database?: string; json?: boolean }) => {
  const { readerSqlCommand } = await import('./commands/config.ts');
  await readerSqlCommand(paths, options);
});

async function main(): Promise<void> {
  // `cli list | head` closes the pipe early: that is not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
  });
  try {
    await program.parseAsync();
  } catch (error) {
    const { reportFailure } = await import('./failure.ts');
    process.exitCode = reportFailure(error);
  }
}

await main();
