import { type Command } from 'commander';
import { example } from './options.ts';

/** Trustpilot: proving a destination's credentials, and GDPR erasure. */
export function registerTrustpilotCommands(program: Command): void {
  example(
    program
      .command('check')
      .description("prove a destination's credentials and ids: obtains a token, confirms the business unit, lists its templates")
      .argument('<destination>')
      .option('--json', 'print JSON'),
    'check demo-trustpilot',
  ).action(async (destination: string, options: { json?: boolean }) => {
    const { checkCommand } = await import('../commands/trustpilot.ts');
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
    const { eraseCommand } = await import('../commands/trustpilot.ts');
    await eraseCommand(destination, options);
  });
}
