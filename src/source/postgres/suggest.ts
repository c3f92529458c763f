import { closest, distance } from 'fastest-levenshtein';
import type { PostgresWarehouse as Warehouse } from './connection.ts';

/**
 * "Did you mean" for a source table, view or schema that does not exist, from what the reader
 * role finds in the catalog. Only catalog views are read (names of relations and schemas, never a
 * row), through the same read-only, rolled-back read as every segment.
 */

/** Relations of one schema, and those of that name in any schema the reader can use. */
const RELATIONS_SQL = `
select n.nspname as schema, c.relname as name, pg_catalog.has_table_privilege(c.oid, 'SELECT') as readable
from pg_catalog.pg_class c
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('r', 'p', 'v', 'm', 'f')
  and (n.nspname = $1 or (pg_catalog.lower(c.relname) = pg_catalog.lower($2) and pg_catalog.has_schema_privilege(n.oid, 'USAGE')))
order by c.relname, n.nspname
limit 5000`;

/** Schemas the reader can use, the system's own aside. */
const SCHEMAS_SQL = `
select n.nspname as name
from pg_catalog.pg_namespace n
where pg_catalog.has_schema_privilege(n.oid, 'USAGE')
  and n.nspname not in ('pg_catalog', 'information_schema')
  and n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
order by n.nspname
limit 5000`;

interface RelationRow {
  schema: string;
  name: string;
  readable: boolean;
}

const LISTED = 12;

function listOf(names: readonly string[]): string {
  return `${names.slice(0, LISTED).join(', ')}${names.length > LISTED ? ', …' : ''}`;
}

/** The closest name when it is close enough to be a typo (as for columns: a third of the length, at least 2 edits). */
export function closeName(name: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0) return undefined;
  const candidate = closest(name, [...candidates]);
  return distance(name.toLowerCase(), candidate.toLowerCase()) <= Math.max(2, Math.floor(name.length / 3)) ? candidate : undefined;
}

/** What the reader can see instead of the missing table or view, as text for the end of the problem. */
export function describeAlternatives(
  source: { schema: string; name: string },
  missing: 'relation' | 'schema',
  relations: readonly RelationRow[],
  schemas: readonly string[],
): string {
  const inSchema = relations.filter((relation) => relation.schema === source.schema);
  const elsewhere = relations
    .filter((relation) => relation.schema !== source.schema && relation.name.toLowerCase() === source.name.toLowerCase())
    .map((relation) => relation.schema);
  // A schema that is not there fails as a missing relation (42P01) in a SELECT: it is the schema to suggest.
  if (missing === 'schema' || (inSchema.length === 0 && !schemas.includes(source.schema))) {
    const schema = closeName(source.schema, schemas);
    if (schema !== undefined) return `did you mean schema '${schema}'?`;
    if (elsewhere.length > 0) return `'${source.name}' is in schema ${elsewhere.map((name) => `'${name}'`).join(', ')}: set source.schema`;
    return schemas.length > 0 ? `schemas the reader role can use: ${listOf(schemas)}` : 'the reader role can use no schema';
  }
  const name = closeName(source.name, inSchema.map((relation) => relation.name));
  if (name !== undefined) {
    const readable = inSchema.find((relation) => relation.name === name)?.readable ?? false;
    return `did you mean '${name}'?${readable ? '' : ' (the reader role may not SELECT it yet)'}`;
  }
  if (elsewhere.length > 0) return `'${source.name}' is in schema ${elsewhere.map((schema) => `'${schema}'`).join(', ')}: set source.schema`;
  const readable = inSchema.filter((relation) => relation.readable).map((relation) => relation.name);
  return readable.length > 0
    ? `tables and views in schema '${source.schema}' the reader role can read: ${listOf(readable)}`
    : `the reader role can read no table or view in schema '${source.schema}'`;
}

/** A suggestion for a source whose table or view (42P01) or schema (3F000) does not exist; undefined when the catalog cannot be read. */
export async function missingSourceSuggestion(
  warehouse: Warehouse,
  source: { schema: string; name: string },
  missing: 'relation' | 'schema',
): Promise<string | undefined> {
  try {
    const { relations, schemas } = await warehouse.read({ statementTimeoutMs: 15_000 }, async (session) => ({
      relations: (await session.query<RelationRow>({ sql: RELATIONS_SQL, parameters: [source.schema, source.name] })).rows,
      schemas: (await session.query<{ name: string }>({ sql: SCHEMAS_SQL, parameters: [] })).rows.map((row) => row.name),
    }));
    return describeAlternatives(source, missing, relations, schemas);
  } catch {
    // The problem itself is already known; a suggestion is a bonus.
    return undefined;
  }
}
