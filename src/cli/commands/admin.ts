import { withServices } from '../context.ts';
import { CliError, colors, printJson } from '../output.ts';
import { registerSearchAttributes } from '../../temporal/search-attributes.ts';

export async function syncSchedulesCommand(options: { json?: boolean } = {}): Promise<void> {
  await withServices(async (services) => {
    const outcomes = await services.client.syncSchedules();
    if (options.json) printJson(outcomes);
    else for (const outcome of outcomes) {
      if (typeof outcome.result === 'string') console.log(`${colors.green('✓')} ${outcome.activationId}: schedule ${outcome.result}`);
      else console.log(`${colors.red('✗')} ${outcome.activationId}: ${outcome.result.error}`);
    }
    if (outcomes.length === 0 && !options.json) console.log(colors.dim('no activations'));
    const failed = outcomes.filter((outcome) => typeof outcome.result !== 'string').length;
    if (failed > 0) throw new CliError(`${failed} schedule(s) not in sync; the others are`);
  });
}

export async function registerSearchAttributesCommand(options: { json?: boolean } = {}): Promise<void> {
  await withServices(async (services) => {
    const added = await registerSearchAttributes(services.temporal, services.env.TEMPORAL_NAMESPACE);
    if (options.json) {
      printJson({ namespace: services.env.TEMPORAL_NAMESPACE, registered: added });
      return;
    }
    console.log(
      added.length > 0
        ? `registered on namespace ${services.env.TEMPORAL_NAMESPACE}: ${added.join(', ')}`
        : `namespace ${services.env.TEMPORAL_NAMESPACE} already has every search attribute runs carry`,
    );
  });
}
