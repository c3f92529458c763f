import { closest, distance } from 'fastest-levenshtein';
import type { ReadLimits, SourceRef } from '../types.ts';
import { withDuckDb, type EngineSettings } from './instance.ts';
import { relativeToRoot } from './location.ts';
import { literal } from './sql.ts';

/**
 * "Did you mean" for a files source whose path matches nothing: the data files under the root
 * (names only, never their content), through the same locked-down DuckDB as every read.
 */

const LISTED = 12;
const MAX_FILES = 5_000;

function candidatesOf(files: readonly string[]): string[] {
  const candidates = new Set<string>();
  for (const file of files) {
    candidates.add(file);
    const parts = file.split('/');
    for (let end = 1; end < parts.length; end++) candidates.add(parts.slice(0, end).join('/'));
  }
  return [...candidates];
}

export async function missingFilesSuggestion(settings: EngineSettings, source: SourceRef, limits: ReadLimits): Promise<string | undefined> {
  if (source.kind !== 'files') return undefined;
  try {
    const files = await withDuckDb(settings, limits, async ({ connection }) => {
      const pattern = `${settings.root.uri}**/*.${source.format}`;
      const prepared = await connection.prepare(`SELECT file FROM glob(${literal(pattern)}) ORDER BY file LIMIT ${MAX_FILES}`);
      try {
        return (await prepared.runAndReadAll()).getRows().map((row) => relativeToRoot(settings.root, String(row[0])));
      } finally {
        prepared.destroySync();
      }
    });
    const visible = files.filter((file) => !file.split('/').some((segment) => segment.startsWith('_') || segment.startsWith('.')));
    if (visible.length === 0) return `the warehouse's root holds no .${source.format} file`;
    const wanted = source.path.replace(/\/+$/, '');
    const candidates = candidatesOf(visible);
    const candidate = closest(wanted, candidates);
    if (distance(wanted.toLowerCase(), candidate.toLowerCase()) <= Math.max(2, Math.floor(wanted.length / 3))) return `did you mean '${candidate}'?`;
    return `.${source.format} files under the root: ${visible.slice(0, LISTED).join(', ')}${visible.length > LISTED ? ', …' : ''}`;
  } catch {
    // The problem itself is already known; a suggestion is a bonus.
    return undefined;
  }
}
