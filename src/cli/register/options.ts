import { InvalidArgumentError, type Command } from 'commander';

/** What the command registrations share: value parsers, the statuses offered as choices, and each command's example. */

export const LEDGER_STATUSES = ['new', 'pending', 'sending', 'sent', 'failed', 'rejected', 'baseline', 'abandoned'] as const;
export const RUN_STATUSES = ['running', 'succeeded', 'failed', 'skipped', 'abandoned'] as const;

export function positiveInt(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('must be a positive whole number');
  return parsed;
}

export function keyList(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((key) => key.trim()).filter((key) => key !== '')];
}

export function example(command: Command, ...lines: string[]): Command {
  return command.addHelpText('after', `\nExample${lines.length > 1 ? 's' : ''}:\n${lines.map((line) => `  $ npm run cli -- ${line}`).join('\n')}\n`);
}
