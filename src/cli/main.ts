import { Command } from 'commander';
import { registerConfigurationCommands } from './register/configuration.ts';
import { registerRowCommands } from './register/rows.ts';
import { registerRunCommands } from './register/runs.ts';
import { registerSetUpCommands } from './register/set-up.ts';
import { registerTrustpilotCommands } from './register/trustpilot.ts';

/**
 * The operator's command line. Each command's module is loaded only when that command runs, so
 * `--help` and quick commands do not pay for the Temporal client or the database driver.
 */

const program = new Command()
  .name('cli')
  .description(
    'Operate Trustpilot review invitations: configure destinations and activations, run them, inspect runs and rows.\n' +
      'While `npm start` runs, every command reaches it with no variable set; otherwise set DATABASE_URL, WAREHOUSE_DATABASE_URL and TEMPORAL_ADDRESS.',
  )
  .showHelpAfterError('(add --help for usage and an example)')
  .configureHelp({ sortSubcommands: false });

// Help lists the commands in the order they are registered.
registerConfigurationCommands(program);
registerRunCommands(program);
registerRowCommands(program);
registerTrustpilotCommands(program);
registerSetUpCommands(program);

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
