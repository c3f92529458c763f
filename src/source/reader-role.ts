import type { SourceRef } from './shape.ts';
import type { Warehouse } from './warehouse.ts';
import { PublicError } from '../domain/public-error.ts';

/**
 * Segment SQL is the marketer's own, so it runs with the privileges of a dedicated reader role:
 * SELECT on what the operator granted, nothing else. The product refuses a warehouse connection
 * with more, and says exactly how to create the right one.
 */

/** Built-in roles whose membership gives a segment more than SELECT on granted tables. */
const POWERFUL_ROLES = [
  'pg_read_all_data',
  'pg_write_all_data',
  'pg_read_server_files',
  'pg_write_server_files',
  'pg_execute_server_program',
  'pg_signal_backend',
  'pg_read_all_settings',
  'pg_monitor',
];

export const DEFAULT_READER_ROLE = 'trustpilot_segment_reader';

export class ReaderRoleError extends PublicError {
  override readonly name = 'ReaderRoleError';
  constructor(
    readonly problems: string[],
    readonly setupSql: string,
  ) {
    super(
      `The warehouse connection may do more than read the segments it was granted:\n${problems.map((problem) => `  - ${problem}`).join('\n')}\n` +
        `Segments must be read by a role of their own. Create it (as an administrator of the warehouse) with:\n\n${setupSql}\n`,
    );
  }
}

interface RoleFacts {
  role: string;
  database: string;
  superuser: boolean;
  create_role: boolean;
  bypass_rls: boolean;
  replication: boolean;
  memberships: string[] | null;
  reads_app_schema: boolean;
}

/** What is wrong with the warehouse connection's role, or an empty list. */
export async function readerRoleProblems(warehouse: Warehouse): Promise<{ role: string; database: string; problems: string[] }> {
  const facts = await warehouse.read({ statementTimeoutMs: 15_000 }, async (client) => {
    const result = await client.query<RoleFacts>(
      `select current_user as role, current_database() as database,
              r.rolsuper as superuser, r.rolcreaterole as create_role, r.rolbypassrls as bypass_rls, r.rolreplication as replication,
              (select array_agg(p.rolname::text order by p.rolname) from pg_roles p
                where p.rolname = any($1::text[]) and pg_has_role(current_user, p.oid, 'member')) as memberships,
              coalesce(to_regnamespace('app') is not null and has_schema_privilege(to_regnamespace('app'), 'USAGE'), false) as reads_app_schema
         from pg_roles r where r.rolname = current_user`,
      [POWERFUL_ROLES],
    );
    const row = result.rows[0];
    if (!row) throw new Error('the warehouse connection has no role');
    return row;
  });
  const problems: string[] = [];
  if (facts.superuser) problems.push(`role '${facts.role}' is a superuser: it can read server files, other databases' data and password hashes`);
  if (facts.create_role) problems.push(`role '${facts.role}' has CREATEROLE: it can grant itself other roles`);
  if (facts.bypass_rls) problems.push(`role '${facts.role}' has BYPASSRLS: it ignores row-level security`);
  if (facts.replication) problems.push(`role '${facts.role}' has REPLICATION`);
  for (const membership of facts.memberships ?? []) problems.push(`role '${facts.role}' is a member of ${membership}`);
  if (facts.reads_app_schema) problems.push(`role '${facts.role}' can use the app's own schema 'app' (ledger, configuration) in database '${facts.database}'`);
  return { role: facts.role, database: facts.database, problems };
}

/** Throws ReaderRoleError, with the SQL to fix it, when the warehouse role may do more than read. */
export async function assertReaderRole(warehouse: Warehouse, sources: readonly SourceRef[] = []): Promise<void> {
  const { database, problems } = await readerRoleProblems(warehouse);
  if (problems.length > 0) throw new ReaderRoleError(problems, readerRoleSql({ database, sources }));
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The SQL an operator runs to create the reader role and grant it what the activations read. */
export function readerRoleSql(options: { database: string; sources: readonly SourceRef[]; role?: string }): string {
  const role = quoteIdent(options.role ?? DEFAULT_READER_ROLE);
  const tables = options.sources.filter((source) => source.kind !== 'query');
  const schemas = [...new Set(tables.map((source) => source.schema))];
  const lines = [
    `CREATE ROLE ${role} LOGIN PASSWORD '<choose a password>' NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;`,
    `GRANT CONNECT ON DATABASE ${quoteIdent(options.database)} TO ${role};`,
    ...schemas.map((schema) => `GRANT USAGE ON SCHEMA ${quoteIdent(schema)} TO ${role};`),
    ...tables.map((source) => `GRANT SELECT ON ${quoteIdent(source.schema)}.${quoteIdent(source.name)} TO ${role};`),
  ];
  if (tables.length === 0 || options.sources.some((source) => source.kind === 'query')) {
    lines.push(`-- for each schema and table (or view) a segment reads:`);
    lines.push(`GRANT USAGE ON SCHEMA <schema> TO ${role};`);
    lines.push(`GRANT SELECT ON <schema>.<table> TO ${role};`);
  }
  lines.push(`-- then give the worker: WAREHOUSE_DATABASE_URL=postgres://${options.role ?? DEFAULT_READER_ROLE}:<password>@<host>:<port>/${options.database}`);
  return lines.map((line) => `  ${line}`).join('\n');
}
