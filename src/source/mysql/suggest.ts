import { closest, distance } from 'fastest-levenshtein';
import type { TableRef } from '../types.ts';
import type { MySqlWarehouse } from './connection.ts';
import { quoteString } from './sql.ts';

/**
 * "Did you mean" for a table, view or database that does not exist, from information_schema:
 * MySQL and MariaDB list there only what the user has some privilege on, so every name offered is
 * one the reader can read. Names only, never a row.
 */

const LISTED = 12;
const SYSTEM_SCHEMAS = new Set(['information_schema', 'mysql', 'performance_schema', 'sys']);

function listOf(names: readonly string[]): string {
  return `${names.slice(0, LISTED).join(', ')}${names.length > LISTED ? ', …' : ''}`;
}

function closeName(name: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0) return undefined;
  const candidate = closest(name, [...candidates]);
  return distance(name.toLowerCase(), candidate.toLowerCase()) <= Math.max(2, Math.floor(name.length / 3)) ? candidate : undefined;
}

/** What the reader can read instead, as text for the end of the problem. */
export function describeAlternatives(source: TableRef, tables: readonly { schema: string; name: string }[], schemas: readonly string[]): string {
  const inSchema = tables.filter((table) => table.schema === source.schema).map((table) => table.name);
  const elsewhere = tables.filter((table) => table.schema !== source.schema && table.name.toLowerCase() === source.name.toLowerCase()).map((table) => `'${table.schema}'`);
  if (!schemas.includes(source.schema)) {
    const schema = closeName(source.schema, schemas);
    if (schema !== undefined) return `did you mean database '${schema}'?`;
    if (elsewhere.length > 0) return `'${source.name}' is in database ${elsewhere.join(', ')}: set source.schema`;
    return schemas.length > 0 ? `databases the reader can read: ${listOf(schemas)}` : 'the reader can read no database';
  }
  const name = closeName(source.name, inSchema);
  if (name !== undefined) return `did you mean '${name}'?`;
  if (elsewhere.length > 0) return `'${source.name}' is in database ${elsewhere.join(', ')}: set source.schema`;
  return inSchema.length > 0 ? `tables and views in database '${source.schema}' the reader can read: ${listOf(inSchema)}` : `the reader can read no table or view in database '${source.schema}'`;
}

export async function missingSourceSuggestion(warehouse: MySqlWarehouse, source: TableRef): Promise<string | undefined> {
  try {
    const { tables, schemas } = await warehouse.read({ statementTimeoutMs: 15_000 }, async (session) => {
      const tableRows = await session.queryArrays(
        `SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES
          WHERE TABLE_SCHEMA = ${quoteString(source.schema)} OR LOWER(TABLE_NAME) = LOWER(${quoteString(source.name)})
          ORDER BY TABLE_NAME, TABLE_SCHEMA LIMIT 5000`,
      );
      const schemaRows = await session.queryArrays(`SELECT SCHEMA_NAME FROM information_schema.SCHEMATA ORDER BY SCHEMA_NAME LIMIT 5000`);
      return {
        tables: tableRows.rows.map((row) => ({ schema: String(row[0]), name: String(row[1]) })),
        schemas: schemaRows.rows.map((row) => String(row[0])).filter((name) => !SYSTEM_SCHEMAS.has(name.toLowerCase())),
      };
    });
    return describeAlternatives(source, tables, schemas);
  } catch {
    // The problem itself is already known; a suggestion is a bonus.
    return undefined;
  }
}
