import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
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
  if ('destinations' in content || 'activations' in content) {
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
  const kind = 'destinationId' in content ? 'activation' : 'destination';
  return [{ kind, file, where: kind, id: idOf(content), value: content }];
}

async function jsonFilesIn(path: string): Promise<string[]> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new CliError(`${path}: no such file or folder`);
  }
  if (!info.isDirectory()) return [path];
  const names = (await readdir(path)).filter((name) => name.endsWith('.json')).sort();
  return names.map((name) => join(path, name));
}

/** Reads every JSON file named, or found in the folders named, in a stable order. */
export async function readConfigEntries(paths: readonly string[]): Promise<ConfigEntry[]> {
  const entries: ConfigEntry[] = [];
  for (const path of paths) {
    for (const file of await jsonFilesIn(path)) {
      let content: unknown;
      try {
        content = JSON.parse(await readFile(file, 'utf8')) as unknown;
      } catch (error) {
        throw new CliError(`${file}: not valid JSON (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`);
      }
      entries.push(...entriesOf(content, file));
    }
  }
  return entries;
}
