import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { closestKey } from '../domain/strict-object.ts';
import { parseJson } from './json-errors.ts';
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
