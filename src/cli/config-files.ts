import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { closestKey } from '../domain/strict-object.ts';
import { CliError } from './output.ts';

/** One destination or activation as written in a file. */
export interface ConfigEntry {
  kind: 'destination' | 'activation';
  file: string;
  /** `destinations[0]`, `activations[2]`, or the whole file */
  where: string;
  id: string | undefined;
  value: unknown;
}

/** A file in a folder that was not read, and why. */
export interface SkippedFile {
  file: string;
  reason: string;
}

export interface ConfigFiles {
  entries: ConfigEntry[];
  /** files inside the folders named that were not read */
  skipped: SkippedFile[];
}

/**
 * Bounds on one file. Every entry is checked against its source and gets a schedule of its own,
 * one at a time, inside one transaction: a file far larger is a mistake (or a generated
 * configuration that belongs in several files of a folder), not something to apply in one go.
 */
export const MAX_ENTRIES_PER_FILE = 20_000;
export const MAX_FILE_BYTES = 64 * 1024 * 1024;

const LIST_KEYS = ['destinations', 'activations'] as const;

function idOf(value: unknown): string | undefined {
  return typeof value === 'object' && value !== null && 'id' in value && typeof value.id === 'string' ? value.id : undefined;
}

/**
 * A file holds `{ destinations: [...], activations: [...] }`, or one destination, or one
 * activation (told apart by its `destinationId`). `validate` and `apply` read files alike.
 */
export function entriesOf(content: unknown, file: string): ConfigEntry[] {
  if (typeof content !== 'object' || content === null || Array.isArray(content)) {
    throw new CliError(`${file}: expected a JSON object (a destination, an activation, or { "destinations": [...], "activations": [...] })`);
  }
  const keys = Object.keys(content);
  if (keys.some((key) => (LIST_KEYS as readonly string[]).includes(key))) {
    // A misspelt list would be read as nothing at all, and `apply --prune` would delete what it holds.
    for (const key of keys) {
      if ((LIST_KEYS as readonly string[]).includes(key)) continue;
      const suggestion = closestKey(key, LIST_KEYS);
      throw new CliError(`${file}: unknown key '${key}'${suggestion ? `; did you mean '${suggestion}'?` : ''} (a file of lists holds only "destinations" and "activations")`);
    }
    const listed = content as { destinations?: unknown; activations?: unknown };
    const entries: ConfigEntry[] = [];
    for (const kind of ['destination', 'activation'] as const) {
      const list = listed[`${kind}s`];
      if (list === undefined) continue;
      if (!Array.isArray(list)) throw new CliError(`${file}: "${kind}s" must be a list`);
      list.forEach((value: unknown, index) => entries.push({ kind, file, where: `${kind}s[${index}]`, id: idOf(value), value }));
    }
    return entries;
  }
  if (!('id' in content) && !('destinationId' in content)) {
    const listKey = keys.map((key) => ({ key, suggestion: closestKey(key, LIST_KEYS) })).find((candidate) => candidate.suggestion !== undefined);
    if (listKey) throw new CliError(`${file}: unknown key '${listKey.key}'; did you mean '${listKey.suggestion ?? ''}'?`);
  }
  const kind = 'destinationId' in content ? 'activation' : 'destination';
  return [{ kind, file, where: kind, id: idOf(content), value: content }];
}

const isJsonName = (name: string): boolean => /\.json$/i.test(name);

function whyNotRead(name: string): string {
  if (/\.ya?ml$/i.test(name)) return 'YAML is not read: write it as JSON';
  if (/\.json5?$|\.jsonc$/i.test(name)) return 'JSON5 and JSON with comments are not read: write it as plain JSON (.json)';
  return 'not a .json file';
}

function listSkipped(skipped: readonly SkippedFile[]): string {
  const shown = skipped.slice(0, 10).map((entry) => `${entry.file} (${entry.reason})`);
  return `${shown.join(', ')}${skipped.length > shown.length ? `, and ${skipped.length - shown.length} more` : ''}`;
}

/** The configuration files a path names: the file itself, or the .json files of a folder (not of its sub-folders). */
async function configFilesIn(path: string): Promise<{ files: string[]; skipped: SkippedFile[] }> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new CliError(`${path}: no such file or folder`);
  }
  if (!info.isDirectory()) {
    if (/\.ya?ml$/i.test(path)) throw new CliError(`${path}: YAML is not read; write the configuration as JSON (a .json file)`);
    return { files: [path], skipped: [] };
  }
  const files: string[] = [];
  const skipped: SkippedFile[] = [];
  for (const name of (await readdir(path)).sort()) {
    const file = join(path, name);
    const entry = await stat(file).catch(() => undefined);
    if (entry?.isDirectory()) skipped.push({ file, reason: 'a folder: folders inside folders are not read' });
    else if (entry?.isFile() && isJsonName(name)) files.push(file);
    else skipped.push({ file, reason: entry?.isFile() ? whyNotRead(name) : 'not a regular file' });
  }
  if (files.length === 0) {
    // An empty list of entries would make `apply --prune` delete everything stored.
    throw new CliError(
      `${path}: no configuration file in this folder (only .json files are read${skipped.length > 0 ? `; skipped: ${listSkipped(skipped)}` : '; the folder is empty'})`,
    );
  }
  return { files, skipped };
}

const describeCharacter = (character: string): string => {
  if (character === '\n' || character === '\r') return 'a line break';
  if (character === '\t') return 'a tab';
  if (character < ' ') return `the control character U+${character.charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}`;
  return `'${character}'`;
};

/**
 * Where, and why, a text is not JSON: the offset of the first character JSON does not allow
 * there. Undefined when it is JSON. Kept separate from JSON.parse, whose messages name an
 * offset (or none) but no line.
 */
export function locateJsonError(text: string): { offset: number; reason: string } | undefined {
  const containers: ('object' | 'list')[] = [];
  let index = 0;
  let state: 'value' | 'key' | 'after' = 'value';
  let comma: number | undefined;
  const length = text.length;
  const skipSpace = () => {
    while (index < length && (text[index] === ' ' || text[index] === '\t' || text[index] === '\n' || text[index] === '\r')) index += 1;
  };
  const found = () => (index < length ? describeCharacter(text[index] ?? '') : 'the end of the file');
  const scanString = (): { offset: number; reason: string } | undefined => {
    const start = index;
    index += 1;
    while (index < length) {
      const character = text[index] ?? '';
      if (character === '"') {
        index += 1;
        return undefined;
      }
      if (character < ' ') return { offset: index, reason: `${describeCharacter(character)} inside a string (a string must end on the line it starts; write \\n for a line break)` };
      if (character === '\\') {
        const escaped = text[index + 1] ?? '';
        if (escaped === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(index + 2, index + 6))) return { offset: index, reason: 'a \\u escape needs four hexadecimal digits' };
          index += 6;
          continue;
        }
        if (!'"\\/bfnrt'.includes(escaped) || escaped === '') return { offset: index, reason: `an invalid escape '\\${escaped}' (write \\\\ for a backslash)` };
        index += 2;
        continue;
      }
      index += 1;
    }
    return { offset: start, reason: 'a string that never ends (a missing closing ")' };
  };
  const numberPattern = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  for (;;) {
    skipSpace();
    if (state === 'value') {
      const character = text[index];
      if (character === undefined) return { offset: index, reason: 'the file ends where a value was expected' };
      if (character === '{' || character === '[') {
        containers.push(character === '{' ? 'object' : 'list');
        index += 1;
        skipSpace();
        if (text[index] === (character === '{' ? '}' : ']')) {
          index += 1;
          containers.pop();
          state = 'after';
        } else {
          state = character === '{' ? 'key' : 'value';
        }
        comma = undefined;
        continue;
      }
      if (character === '"') {
        const problem = scanString();
        if (problem) return problem;
        state = 'after';
        continue;
      }
      if (character === '-' || (character >= '0' && character <= '9')) {
        numberPattern.lastIndex = index;
        const match = numberPattern.exec(text);
        if (!match) return { offset: index, reason: 'an invalid number' };
        index += match[0].length;
        state = 'after';
        continue;
      }
      const literal = ['true', 'false', 'null'].find((word) => text.startsWith(word, index));
      if (literal !== undefined) {
        index += literal.length;
        state = 'after';
        continue;
      }
      if ((character === ']' || character === '}') && comma !== undefined) return { offset: comma, reason: `a comma before '${character}': JSON allows no trailing comma` };
      if (character === "'") return { offset: index, reason: "a single quote: JSON strings are in double quotes" };
      return { offset: index, reason: `${found()} where a value was expected` };
    }
    if (state === 'key') {
      if (text[index] === '}' && comma !== undefined) return { offset: comma, reason: "a comma before '}': JSON allows no trailing comma" };
      if (text[index] !== '"') return { offset: index, reason: `${found()} where a property name in double quotes was expected` };
      const problem = scanString();
      if (problem) return problem;
      skipSpace();
      if (text[index] !== ':') return { offset: index, reason: `${found()} where ':' was expected after the property name` };
      index += 1;
      state = 'value';
      comma = undefined;
      continue;
    }
    const container = containers.at(-1);
    if (container === undefined) return index < length ? { offset: index, reason: `${found()} after the end of the JSON value` } : undefined;
    const close = container === 'object' ? '}' : ']';
    if (index >= length) return { offset: index, reason: `the file ends inside ${container === 'object' ? 'an object' : 'a list'} (a missing '${close}')` };
    if (text[index] === ',') {
      comma = index;
      index += 1;
      state = container === 'object' ? 'key' : 'value';
      continue;
    }
    if (text[index] === close) {
      index += 1;
      containers.pop();
      comma = undefined;
      continue;
    }
    return { offset: index, reason: `${found()} where ',' or '${close}' was expected after ${container === 'object' ? 'a property value' : 'a list item'} (a missing comma?)` };
  }
}

/** `file:line:column: reason`, then the line and a caret under the column. */
function jsonErrorMessage(file: string, text: string, offset: number, reason: string): string {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  const lineEnd = text.indexOf('\n', offset) === -1 ? text.length : text.indexOf('\n', offset);
  const line = text.slice(0, lineStart).split('\n').length;
  const column = offset - lineStart + 1;
  const fullLine = text.slice(lineStart, lineEnd).replace(/\r$/, '');
  // A long line (a minified file) is shown around the column only.
  const from = Math.max(0, column - 1 - 60);
  const shown = fullLine.slice(from, from + 120);
  const caretAt = column - 1 - from;
  const pad = shown.slice(0, caretAt).replace(/[^\t]/g, ' ');
  return `${file}:${line}:${column}: not valid JSON: ${reason}\n  ${from > 0 ? '…' : ''}${shown}${from + 120 < fullLine.length ? '…' : ''}\n  ${from > 0 ? ' ' : ''}${pad}^`;
}

function parseJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const located = locateJsonError(text);
    if (located) throw new CliError(jsonErrorMessage(file, text, located.offset, located.reason));
    // JSON.parse's own words, without the excerpt of the file some versions quote.
    const reason = error instanceof Error ? (error.message.split('\n')[0] ?? '').replace(/, ".*" is not valid JSON$/, '') : String(error);
    throw new CliError(`${file}: not valid JSON (${reason})`);
  }
}

async function readConfigFile(file: string): Promise<ConfigEntry[]> {
  const size = (await stat(file)).size;
  if (size > MAX_FILE_BYTES) {
    throw new CliError(`${file}: ${(size / 1024 / 1024).toFixed(1)} MiB; a configuration file holds at most ${MAX_FILE_BYTES / 1024 / 1024} MiB: split it into several files in a folder`);
  }
  // An editor's byte order mark is not part of the JSON.
  const text = (await readFile(file, 'utf8')).replace(/^\uFEFF/, '');
  const content = parseJson(file, text);
  const lists = typeof content === 'object' && content !== null ? (content as { destinations?: unknown; activations?: unknown }) : {};
  const count = (Array.isArray(lists.destinations) ? lists.destinations.length : 0) + (Array.isArray(lists.activations) ? lists.activations.length : 0);
  if (count > MAX_ENTRIES_PER_FILE) {
    throw new CliError(`${file}: ${count} entries; a file holds at most ${MAX_ENTRIES_PER_FILE} entries (destinations and activations): split it into several files in a folder`);
  }
  return entriesOf(content, file);
}

/**
 * Reads every file named, and the .json files (any case) of every folder named, in a stable
 * order. A path that holds no configuration file is refused, saying what was skipped and why.
 */
export async function readConfigFiles(paths: readonly string[]): Promise<ConfigFiles> {
  const entries: ConfigEntry[] = [];
  const skipped: SkippedFile[] = [];
  for (const path of paths) {
    const found = await configFilesIn(path);
    for (const entry of found.skipped) skipped.push(entry);
    for (const file of found.files) {
      // One by one: a spread of a very long list into push's arguments overflows the stack.
      for (const entry of await readConfigFile(file)) entries.push(entry);
    }
  }
  return { entries, skipped };
}

/** The entries of readConfigFiles, for callers that do not report skipped files. */
export async function readConfigEntries(paths: readonly string[]): Promise<ConfigEntry[]> {
  return (await readConfigFiles(paths)).entries;
}
