import { readFile } from 'node:fs/promises';
import { withServices } from '../context.ts';
import { CliError, colors, printJson, printTable } from '../output.ts';
import { CredentialsError, resolveCredentials } from '../../trustpilot/credentials.ts';
import { getDestination } from '../../db/config-store.ts';
import type { DestinationConfig } from '../../domain/index.ts';
import { createTrustpilotClient, type TrustpilotClient } from '../../trustpilot/index.ts';
import type { AppEnv } from '../../config/env.ts';

function clientFor(destination: DestinationConfig, env: AppEnv): TrustpilotClient {
  try {
    return createTrustpilotClient({
      apiUrl: env.TRUSTPILOT_API_URL,
      invitationsApiUrl: env.TRUSTPILOT_INVITATIONS_API_URL,
      credentials: resolveCredentials(destination, process.env),
    });
  } catch (error) {
    if (error instanceof CredentialsError) throw new CliError(`${error.message} in this shell (the CLI reads them as the worker does)`);
    throw error;
  }
}

/** Proves a destination before any activation uses it: a token, the business unit, its templates. */
export async function checkCommand(destinationId: string, options: { json?: boolean }): Promise<void> {
  await withServices(async (services) => {
    const destination = await getDestination(services.db, destinationId);
    const client = clientFor(destination, services.env);
    await client.authenticate();
    const templates = await client.listTemplates(destination.businessUnitId);
    if (options.json) {
      printJson({ destinationId, token: 'ok', businessUnitId: destination.businessUnitId, templates });
      return;
    }
    console.log(`${colors.green('✓')} credentials accepted (${destination.credentials.grant} grant, token obtained)`);
    console.log(`${colors.green('✓')} business unit ${destination.businessUnitId} answers with ${templates.length} invitation template(s)`);
    printTable(templates, [
      { header: 'template id', value: (template) => template.id },
      { header: 'name', value: (template) => template.name },
      { header: 'locale', value: (template) => template.locale },
      { header: 'type', value: (template) => template.type },
      { header: 'default', value: (template) => (template.isDefaultTemplate ? 'yes' : '') },
    ]);
    console.log(colors.dim('use an id as serviceTemplateId / productTemplateId (destination defaults or activation target)'));
  });
}

export async function eraseCommand(destinationId: string, options: { emailsFile: string; yes?: boolean; json?: boolean }): Promise<void> {
  const emails = (await readFile(options.emailsFile, 'utf8'))
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  if (emails.length === 0) throw new CliError(`${options.emailsFile} lists no email address`);
  if (!options.yes) throw new CliError(`erasing Trustpilot data for ${emails.length} customer(s) cannot be undone: add --yes to proceed`);
  await withServices(async (services) => {
    const destination = await getDestination(services.db, destinationId);
    await clientFor(destination, services.env).deleteInvitationData(destination.businessUnitId, { customerEmails: emails });
    if (options.json) printJson({ destinationId, businessUnitId: destination.businessUnitId, customers: emails.length, accepted: true });
    else console.log(`Trustpilot accepted the erasure request for ${emails.length} customer(s) of business unit ${destination.businessUnitId}`);
  });
}
