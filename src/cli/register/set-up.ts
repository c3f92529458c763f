import { InvalidArgumentError, type Command } from 'commander';
import { example } from './options.ts';

/** Set-up: schedules, search attributes, and the reader role's SQL. */
export function registerSetUpCommands(program: Command): void {
  example(
    program
      .command('sync-schedules')
      .description("(re)create every activation's Temporal schedule; reports a failing one by id and carries on")
      .option('--json', 'print JSON'),
    'sync-schedules',
  ).action(async (options: { json?: boolean }) => {
    const { syncSchedulesCommand } = await import('../commands/admin.ts');
    await syncSchedulesCommand(options);
  });

  example(
    program
      .command('register-search-attributes')
      .description('register the search attributes runs carry on the Temporal namespace (once per cluster)')
      .option('--json', 'print JSON'),
    'register-search-attributes',
  ).action(async (options: { json?: boolean }) => {
    const { registerSearchAttributesCommand } = await import('../commands/admin.ts');
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
    const { readerSqlCommand } = await import('../commands/reader-sql.ts');
    await readerSqlCommand(paths, options);
  });
}
