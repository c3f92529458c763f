import { Option, type Command } from 'commander';
import { RUN_STATUSES, example, positiveInt } from './options.ts';

/** Runs: starting them, following them, and ending a stuck one. */
export function registerRunCommands(program: Command): void {
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
    const { runCommand } = await import('../commands/runs.ts');
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
    const { triggerCommand } = await import('../commands/runs.ts');
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
    const { runsCommand } = await import('../commands/runs.ts');
    await runsCommand(activation, options);
  });

  example(
    program.command('progress').description("the running run's live progress").argument('<activation>').option('--json', 'print JSON'),
    'progress demo-orders',
  ).action(async (activation: string, options: { json?: boolean }) => {
    const { progressCommand } = await import('../commands/runs.ts');
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
    const { recoverCommand } = await import('../commands/runs.ts');
    await recoverCommand(activation, options);
  });
}
