import { stripVTControlCharacters } from 'node:util';
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
  /** on a narrow terminal, break its words last (keys and ids an operator copies) */
  keepWords?: boolean;
  value: (row: Row) => string | number | boolean | null | undefined;
  /** colours the cell (on a terminal) */
  style?: (text: string, row: Row) => string;
}

/**
 * The width tables must fit on a terminal; undefined when stdout is not one, so that piped output
 * stays as it always was (one line per row, whatever its length).
 */
export function terminalWidth(stdout: { isTTY?: boolean; columns?: number } = process.stdout, env: NodeJS.ProcessEnv = process.env): number | undefined {
  if (stdout.isTTY !== true) return undefined;
  const fromEnv = Number(env.COLUMNS);
  for (const candidate of [stdout.columns, fromEnv]) {
    if (candidate !== undefined && Number.isInteger(candidate) && candidate > 0) return candidate;
  }
  return 120;
}

/** What a column needs: its widest line, and its longest word (which wrapping cannot shorten). */
export interface ColumnNeed {
  natural: number;
  /** the longest word of its header and cells */
  word: number;
  /** its words are broken only when breaking every other column's is not enough (keys, ids) */
  keepWords?: boolean;
}

/** cli-table3 puts one space on either side of a cell's content. */
const CELL_PADDING = 2;

/**
 * Column widths (padding included, as cli-table3's colWidths take them) that fit a table in
 * `width` characters, borders included; undefined when it fits as it is. The widest columns give
 * way first (prose such as reasons wraps onto more lines), and no column is made narrower than
 * its longest word (header included) unless even the words do not fit: then the longest words
 * are broken, and no more than needed.
 */
export function fitColumnWidths(needs: readonly ColumnNeed[], width: number): number[] | undefined {
  const count = needs.length;
  if (count === 0) return undefined;
  const budget = width - (count + 1) - CELL_PADDING * count;
  const natural = needs.map((need) => Math.max(1, need.natural));
  const sum = (values: readonly number[]) => values.reduce((total, value) => total + value, 0);
  if (sum(natural) <= budget) return undefined;
  const words = needs.map((need, index) => Math.min(natural[index] ?? 1, Math.max(1, need.word)));
  const capped = (wordCap: number, keptToo: boolean) => words.map((word, index) => (needs[index]?.keepWords && !keptToo ? word : Math.min(word, wordCap)));
  let floors = words;
  for (const keptToo of [false, true]) {
    let wordCap = Math.max(...words);
    while (sum(capped(wordCap, keptToo)) > budget && wordCap > 1) wordCap--;
    floors = capped(wordCap, keptToo);
    if (sum(floors) <= budget) break;
  }
  const widthsAt = (cap: number) => natural.map((value, index) => Math.max(floors[index] ?? 1, Math.min(value, cap)));
  // The largest cap on the widest columns that fits; then the characters left go to capped columns.
  let cap = Math.max(...natural);
  while (cap > 1 && sum(widthsAt(cap)) > budget) cap--;
  const widths = widthsAt(cap);
  let left = budget - sum(widths);
  for (let index = 0; left > 0 && index < count; index++) {
    const target = natural[index] ?? 1;
    const current = widths[index] ?? 1;
    if (current < target) {
      const extra = Math.min(left, target - current);
      widths[index] = current + extra;
      left -= extra;
    }
  }
  return widths.map((value) => value + CELL_PADDING);
}

function visibleLength(text: string): number {
  return stripVTControlCharacters(text).length;
}

function longestWord(text: string): number {
  return Math.max(0, ...text.split(/\s+/).map(visibleLength));
}

/**
 * Breaks text onto lines of at most `width` characters, at spaces where it can and inside a word
 * only when the word alone is wider. Coloured text is left to cli-table3, which wraps it at spaces
 * and keeps its colours: breaking inside an escape sequence would garble it.
 */
export function wrapText(text: string, width: number): string {
  if (width < 1 || text.includes('\u001b') || text.split('\n').every((line) => line.length <= width)) return text;
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(/\s+/).filter((part) => part !== '')) {
      let rest = word;
      while (rest.length > 0) {
        const room = line === '' ? width : width - line.length - 1;
        if (rest.length <= room) {
          line = line === '' ? rest : `${line} ${rest}`;
          rest = '';
        } else if (line !== '') {
          lines.push(line);
          line = '';
        } else {
          lines.push(rest.slice(0, width));
          rest = rest.slice(width);
        }
      }
    }
    lines.push(line);
  }
  return lines.join('\n');
}

/** The table as text; fitted to `width` when given (a terminal), otherwise as wide as its content. */
export function renderTable<Row>(rows: readonly Row[], columns: readonly Column<Row>[], width?: number): string {
  const cells = rows.map((row) =>
    columns.map((column) => {
      const raw = column.value(row);
      const text = raw === null || raw === undefined ? '' : String(raw);
      return column.style ? column.style(text, row) : text;
    }),
  );
  const needs = columns.map((column, index) => {
    const texts = cells.map((line) => line[index] ?? '');
    const lineWidths = [column.header, ...texts].flatMap((text) => text.split('\n').map(visibleLength));
    return { natural: Math.max(...lineWidths), word: Math.max(longestWord(column.header), ...texts.map(longestWord)), keepWords: column.keepWords ?? false };
  });
  const colWidths = width === undefined ? undefined : fitColumnWidths(needs, width);
  const fit = (text: string, index: number) => (colWidths ? wrapText(text, (colWidths[index] ?? CELL_PADDING + 1) - CELL_PADDING) : text);
  const table = new Table({
    head: columns.map((column, index) => fit(column.header, index).split('\n').map((line) => colors.bold(line)).join('\n')),
    style: { head: [], border: [] },
    wordWrap: true,
    ...(colWidths ? { colWidths } : {}),
  });
  for (const line of cells) table.push(line.map((text, index) => fit(text, index)));
  return table.toString();
}

export function printTable<Row>(rows: readonly Row[], columns: readonly Column<Row>[], empty = '(none)'): void {
  if (rows.length === 0) {
    console.log(colors.dim(empty));
    return;
  }
  console.log(renderTable(rows, columns, terminalWidth()));
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
