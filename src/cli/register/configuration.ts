import { Argument, type Command } from 'commander';
import { example } from './options.ts';

/** Configuration: checking and applying files, and looking at, pausing and deleting what they set up. */
export function registerConfigurationCommands(program: Command): void {
  example(
    program
      .command('validate')
      .description('check destination and activation files (and, with a database, each activation against its source) without saving anything')
      .argument('<paths...>', 'JSON files, or folders of them (their .json files; a path with none is refused)')
      .option('--json', 'print the result as JSON'),
    'validate examples/',
    'validate my-activation.json --json',
  ).action(async (paths: string[], options: { json?: boolean }) => {
    const { validateCommand } = await import('../commands/validate.ts');
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
    const { applyCommand } = await import('../commands/apply.ts');
    await applyCommand(paths, options);
  });

  example(
    program.command('list').description('destinations and activations: schedule state, next run, last run').option('--json', 'print JSON'),
    'list',
  ).action(async (options: { json?: boolean }) => {
    const { listCommand } = await import('../commands/activations.ts');
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
    const { showCommand } = await import('../commands/activations.ts');
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
    const { pauseCommand } = await import('../commands/activations.ts');
    await pauseCommand(activation, options);
  });

  example(program.command('resume').description("resume an activation's schedule").argument('<activation>').option('--json', 'print JSON'), 'resume demo-orders').action(
    async (activation: string, options: { json?: boolean }) => {
      const { resumeCommand } = await import('../commands/activations.ts');
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
    const { deleteCommand } = await import('../commands/activations.ts');
    await deleteCommand(kind, id, options);
  });
}
