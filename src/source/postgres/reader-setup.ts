import { isTableRef, type SourceRef } from '../types.ts';
import { DEFAULT_READER_ROLE, PER_ACTIVATION_ROLE_PREFIX, activationRoleName } from '../reader-names.ts';
import { quoteIdent } from './reader-findings.ts';

/** An activation's id and what it reads, for a role of its own. */
export interface ActivationSource {
  id: string;
  source: SourceRef;
}

export function roleGrants(role: string, database: string, sources: readonly SourceRef[]): string[] {
  const quoted = quoteIdent(role);
  const tables = sources.filter(isTableRef);
  const schemas = [...new Set(tables.map((source) => source.schema))];
  return [
    `CREATE ROLE ${quoted} LOGIN PASSWORD '<choose a password>' NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;`,
    `GRANT CONNECT ON DATABASE ${quoteIdent(database)} TO ${quoted};`,
    ...schemas.map((schema) => `GRANT USAGE ON SCHEMA ${quoteIdent(schema)} TO ${quoted};`),
    ...[...new Set(tables.map((source) => `GRANT SELECT ON ${quoteIdent(source.schema)}.${quoteIdent(source.name)} TO ${quoted};`))],
  ];
}

export function perActivationSql(database: string, activations: readonly ActivationSource[], prefix: string): string[] {
  const lines = [
    `-- One role per activation, each granted only what its activation reads. Activations that share a role can see each other's queries in pg_stat_activity and cancel each other's reads.`,
  ];
  if (activations.length === 0) lines.push('-- no activations: name activation files, or save them first (`cli apply`)');
  for (const activation of activations) {
    const role = activationRoleName(activation.id, prefix);
    lines.push(`-- activation '${activation.id}'`);
    lines.push(...roleGrants(role, database, [activation.source]));
    if (activation.source.kind === 'query') {
      lines.push(`-- its query reads tables of its own choosing: grant each schema and table (or view) it reads:`);
      lines.push(`GRANT USAGE ON SCHEMA <schema> TO ${quoteIdent(role)};`);
      lines.push(`GRANT SELECT ON <schema>.<table> TO ${quoteIdent(role)};`);
    }
  }
  lines.push(`-- a worker reads every activation it runs as one role, its WAREHOUSE_DATABASE_URL's (postgres://<role>:<password>@<host>:<port>/${database})`);
  return lines;
}

/**
 * The SQL an operator runs to create the reader role and grant it what the activations read; with
 * `perActivation`, one role per activation instead (`role` is then the prefix of their names).
 */
export function readerRoleSql(options: { database: string; sources: readonly SourceRef[]; role?: string; perActivation?: readonly ActivationSource[] }): string {
  if (options.perActivation) {
    return perActivationSql(options.database, options.perActivation, options.role ?? PER_ACTIVATION_ROLE_PREFIX)
      .map((line) => `  ${line}`)
      .join('\n');
  }
  const name = options.role ?? DEFAULT_READER_ROLE;
  const role = quoteIdent(name);
  const lines = roleGrants(name, options.database, options.sources);
  const queries = options.sources.filter((source) => source.kind === 'query');
  if (queries.length > 0 || queries.length === options.sources.length) {
    lines.push(`-- for each schema and table (or view) a segment reads:`);
    lines.push(`GRANT USAGE ON SCHEMA <schema> TO ${role};`);
    lines.push(`GRANT SELECT ON <schema>.<table> TO ${role};`);
  }
  lines.push(`-- then give the worker: WAREHOUSE_DATABASE_URL=postgres://${name}:<password>@<host>:<port>/${options.database}`);
  return lines.map((line) => `  ${line}`).join('\n');
}
