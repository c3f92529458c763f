import { Option, type Command } from 'commander';
import { LEDGER_STATUSES, example, keyList, positiveInt } from './options.ts';

/** Rows: the ledger, putting rows back in line, and previewing what a run would send. */
export function registerRowCommands(program: Command): void {
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
      const { rowsCommand } = await import('../commands/rows.ts');
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
    const { requeueCommand } = await import('../commands/rows.ts');
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
    const { dryRunCommand } = await import('../commands/preview.ts');
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
    const { testRowCommand } = await import('../commands/preview.ts');
    await testRowCommand(activation, options);
  });
}
