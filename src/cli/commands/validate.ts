import { cliEnv, withServices } from '../context.ts';
import { checkEntries, checkSources, printProblems, printSkipped, type Problem } from '../config-checks.ts';
import { readConfigFiles } from '../config-files.ts';
import { CliError, colors, printJson } from '../output.ts';

export interface ValidateOptions {
  json?: boolean;
}

/** `validate`: checks files (and, when a database is configured, their sources) without saving anything. */
export async function validateCommand(paths: string[], options: ValidateOptions): Promise<void> {
  const { entries, skipped } = await readConfigFiles(paths);
  const { env } = cliEnv();
  let result: { problems: Problem[]; sourcesChecked: boolean; destinations: number; activations: number };
  if (env.DATABASE_URL) {
    result = await withServices(async (services) => {
      const checked = await checkEntries(entries, services.db);
      const problems = [...checked.problems, ...(checked.problems.length === 0 ? await checkSources(services.warehouses, checked) : [])];
      return { problems, sourcesChecked: checked.problems.length === 0, destinations: checked.destinations.size, activations: checked.activations.size };
    });
  } else {
    const checked = await checkEntries(entries, undefined);
    result = { problems: checked.problems, sourcesChecked: false, destinations: checked.destinations.size, activations: checked.activations.size };
  }
  if (options.json) printJson({ valid: result.problems.length === 0, sourcesChecked: result.sourcesChecked, problems: result.problems, skipped });
  else if (result.problems.length > 0) {
    printSkipped(skipped);
    printProblems(result.problems);
  } else {
    printSkipped(skipped);
    console.log(`${colors.green('✓')} valid: ${result.destinations} destination(s), ${result.activations} activation(s)`);
    if (!result.sourcesChecked) console.log(colors.dim('  sources not checked: no database configured (set DATABASE_URL and WAREHOUSE_DATABASE_URL, or start `npm start`)'));
  }
  if (result.problems.length > 0) throw new CliError(`${result.problems.length} problem(s)`, 1);
}
