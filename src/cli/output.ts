import Table from 'cli-table3';
import pc from 'picocolors';

/**
 * How the command line prints: tables and colours for a person at a terminal (picocolors turns
 * colours off for NO_COLOR and when stdout is not a terminal), JSON for scripts.
 */

export const isTerminal = process.stdout.isTTY === true;

/** Colours on a terminal only (picocolors alone would also turn them on when CI is set), unless NO_COLOR; FORCE_COLOR wins. */
function colorsWanted(env: NodeJS.ProcessEnv): boolean {
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  return isTerminal && env.NO_COLOR === undefined && env.TERM !== 'dumb';
}

export const colors = pc.createColors(colorsWanted(process.env));

/** A failure the CLI reports in one line, with exit code 1 (or `exitCode`). */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

export interface Column<Row> {
  header: string;
  value: (row: Row) => string | number | boolean | null | undefined;
  /** colours the cell (on a terminal) */
  style?: (text: string, row: Row) => string;
}

export function printTable<Row>(rows: readonly Row[], columns: readonly Column<Row>[], empty = '(none)'): void {
  if (rows.length === 0) {
    console.log(colors.dim(empty));
    return;
  }
  const table = new Table({
    head: columns.map((column) => colors.bold(column.header)),
    style: { head: [], border: [] },
    wordWrap: true,
  });
  for (const row of rows) {
    table.push(
      columns.map((column) => {
        const raw = column.value(row);
        const text = raw === null || raw === undefined ? '' : String(raw);
        return column.style ? column.style(text, row) : text;
      }),
    );
  }
  console.log(table.toString());
}

/** Key/value lines, aligned, for `show`. */
export function printFields(fields: readonly [string, string | number | null | undefined][]): void {
  const width = Math.max(...fields.map(([name]) => name.length));
  for (const [name, value] of fields) console.log(`${colors.dim(name.padEnd(width))}  ${value ?? ''}`);
}

export function statusColor(status: string): string {
  switch (status) {
    case 'succeeded':
    case 'sent':
    case 'active':
      return colors.green(status);
    case 'failed':
    case 'abandoned':
    case 'rejected':
      return colors.red(status);
    case 'running':
    case 'pending':
    case 'sending':
    case 'new':
      return colors.cyan(status);
    case 'skipped':
    case 'paused':
    case 'baseline':
      return colors.yellow(status);
    default:
      return status;
  }
}

/** "3m ago", "in 40s": relative times read faster than ISO stamps in a table. */
export function relativeTime(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '';
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  const magnitude = Math.abs(seconds);
  const text =
    magnitude < 60 ? `${magnitude}s` : magnitude < 3600 ? `${Math.round(magnitude / 60)}m` : magnitude < 86_400 ? `${Math.round(magnitude / 3600)}h` : `${Math.round(magnitude / 86_400)}d`;
  return seconds >= 0 ? `in ${text}` : `${text} ago`;
}
