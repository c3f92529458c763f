import { ConfigValidationError } from '../db/config-store.ts';
import { PublicError } from '../domain/public-error.ts';
import { isTrustpilotError } from '../trustpilot/index.ts';
import { CliError, colors } from './output.ts';

function codeOf(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

/**
 * Prints why a command failed, in one line (a configuration's problems, one per line), and
 * returns the exit code. Errors that are not the app's own are named by type and code: their
 * messages may quote data. DEBUG=1 prints the stack for a bug report.
 */
export function reportFailure(error: unknown): number {
  const print = (message: string) => console.error(`${colors.red('error:')} ${message}`);
  if (error instanceof CliError) {
    print(error.message);
    return error.exitCode;
  }
  if (error instanceof ConfigValidationError) {
    print(`${error.subject} is invalid:`);
    for (const issue of error.issues) console.error(`  - ${issue.path}: ${issue.message}`);
    return 1;
  }
  if (error instanceof PublicError) {
    print(error.message);
    return 1;
  }
  if (isTrustpilotError(error)) {
    print(`${error.message}${error.hint ? `\n  ${error.hint}` : ''}`);
    return 1;
  }
  const code = codeOf(error);
  const name = error instanceof Error ? error.name : '';
  if (name === 'ScheduleNotFoundError') {
    print('the activation has no schedule yet: `npm run cli -- sync-schedules` creates it');
  } else if (name === 'NamespaceNotFoundError' || (error instanceof Error && /namespace .* (is )?not found/i.test(error.message))) {
    print(`the Temporal namespace (TEMPORAL_NAMESPACE=${process.env.TEMPORAL_NAMESPACE ?? 'default'}) does not exist on that server`);
  } else if ((code === 'ENOENT' || code === 'EACCES') && error instanceof Error && 'path' in error && typeof error.path === 'string') {
    print(`cannot read ${error.path} (${code})`);
  } else if (code === '42P01' || code === '3F000') {
    print('the app database is not set up yet: run `npm run cli -- apply <files>` (it sets it up), or start a worker or `npm start` once');
  } else if (code === 'ECONNREFUSED' || code === 'ENOTFOUND') {
    print(`cannot reach a server (${code}): check DATABASE_URL and TEMPORAL_ADDRESS, or start \`npm start\``);
  } else {
    print(`unexpected ${error instanceof Error ? error.name : typeof error}${code ? ` (${code})` : ''}; run again with DEBUG=1 for details`);
  }
  if (process.env.DEBUG && error instanceof Error) console.error(error.stack);
  return 1;
}
