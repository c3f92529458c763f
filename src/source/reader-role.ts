import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { SourceRef } from './shape.ts';
import type { Warehouse } from './warehouse.ts';
import { PublicError } from '../domain/public-error.ts';

/**
 * Segment SQL is the marketer's own, so it runs with the privileges of a dedicated reader role:
 * SELECT on what the operator granted, nothing else. The product refuses a warehouse connection
 * that can reach more, and says exactly how to take it away or create the right role.
 *
 * "Reach" is every role the connection is a member of, directly or through other roles, with or
 * without INHERIT: a member that does not inherit a role's privileges can still SET ROLE to it,
 * and segment SQL can do that inside its own SELECT (`set_config('role', …, true)`).
 */

/**
 * Built-in roles and what membership gives. Every built-in role a server has is refused, named
 * here or not (a newer release adds more): only pg_database_owner is harmless, and no role can be
 * granted it (owning the database makes one a member).
 */
const BUILT_IN_ROLES: Readonly<Record<string, string>> = {
  pg_read_all_data: 'reads every table, view and sequence',
  pg_write_all_data: 'writes every table',
  pg_read_server_files: 'reads any file the server can',
  pg_write_server_files: 'writes files on the server',
  pg_execute_server_program: 'runs programs on the server',
  pg_signal_backend: 'cancels and terminates other sessions',
  pg_signal_autovacuum_worker: 'signals autovacuum workers',
  pg_read_all_settings: 'reads every setting, secret ones included',
  pg_read_all_stats: "sees every session's queries and the server's statistics",
  pg_stat_scan_tables: 'runs monitoring functions that lock tables',
  pg_monitor: "sees every session's queries, every setting and the server's log and WAL files",
  pg_checkpoint: 'forces checkpoints',
  pg_maintain: 'vacuums, analyzes, reindexes, refreshes and locks every table',
  pg_create_subscription: 'creates subscriptions that connect to other servers',
  pg_use_reserved_connections: 'takes the connections reserved for administrators',
};
const HARMLESS_BUILT_IN_ROLES = new Set(['pg_database_owner']);

/**
 * Functions a default install keeps from PUBLIC because EXECUTE is all that guards them. Functions
 * every role may call and that check privileges themselves are not listed: the replication-slot
 * functions check REPLICATION (refused above), pg_terminate_backend checks pg_signal_backend, and
 * lo_create or set_config cannot outlive a read-only transaction that is never committed.
 */
const FUNCTION_RISKS: readonly { what: string; names?: readonly string[]; prefix?: string; suffix?: string }[] = [
  { what: "reads the server's files", names: ['pg_read_file', 'pg_read_binary_file', 'lo_import'] },
  { what: "lists and inspects the server's files", names: ['pg_stat_file', 'pg_ls_dir', 'pg_logdir_ls', 'pg_current_logfile'], prefix: 'pg_ls_', suffix: 'dir' },
  { what: "writes the server's files", names: ['lo_export', 'pg_file_write', 'pg_file_rename', 'pg_file_unlink', 'pg_file_sync'] },
  {
    what: 'controls the server (configuration reload, log rotation, promotion, WAL, backups)',
    names: [
      'pg_reload_conf',
      'pg_rotate_logfile',
      'pg_promote',
      'pg_switch_wal',
      'pg_create_restore_point',
      'pg_backup_start',
      'pg_backup_stop',
      'pg_start_backup',
      'pg_stop_backup',
      'pg_wal_replay_pause',
      'pg_wal_replay_resume',
      'pg_log_standby_snapshot',
      'pg_log_backend_memory_contexts',
    ],
  },
  { what: "resets the server's statistics (not undone by a rollback)", prefix: 'pg_stat_reset' },
  { what: 'manages replication origins', names: ['pg_show_replication_origin_status'], prefix: 'pg_replication_origin_' },
  {
    what: "reads the server's configuration files and internals",
    names: ['pg_hba_file_rules', 'pg_ident_file_mappings', 'pg_show_all_file_settings', 'pg_config', 'pg_get_backend_memory_contexts', 'pg_get_shmem_allocations', 'pg_get_shmem_allocations_numa', 'pg_get_aios'],
  },
];

/** Extensions any of whose functions is refused: they reach outside the read's transaction. */
const EXTENSION_RISKS: Readonly<Record<string, { what: string; named: readonly string[] }>> = {
  dblink: { what: 'they open connections of their own, outside the read-only transaction', named: ['dblink', 'dblink_connect', 'dblink_exec'] },
};

/** Function names the check looks for (besides the prefixes and the extensions' functions). */
export const CHECKED_FUNCTION_NAMES: readonly string[] = FUNCTION_RISKS.flatMap((risk) => risk.names ?? []);
/** Extensions whose every function the check looks for. */
export const CHECKED_EXTENSIONS: readonly string[] = Object.keys(EXTENSION_RISKS);

function riskOfFunction(name: string): string | undefined {
  return FUNCTION_RISKS.find(
    (risk) => risk.names?.includes(name) || (risk.prefix !== undefined && name.startsWith(risk.prefix) && name.endsWith(risk.suffix ?? '')),
  )?.what;
}

export const DEFAULT_READER_ROLE = 'trustpilot_segment_reader';
/** With one role per activation, each role's name is this, `_`, and the activation's id. */
export const PER_ACTIVATION_ROLE_PREFIX = 'trustpilot_reader';

/** One thing the role can do beyond reading, and the SQL that takes it away. */
export interface ReaderRoleFinding {
  problem: string;
  /** statements (and `--` comments where no statement can be written for the operator) */
  fix: readonly string[];
}

export interface ReaderRoleReport {
  role: string;
  database: string;
  problems: string[];
  findings: ReaderRoleFinding[];
}

/** What the one catalog query returns (see READER_ROLE_QUERY). */
export interface ReaderRoleFacts {
  role: string;
  current: string;
  database: string;
  server_version: number;
  app_public: boolean;
  /** every role the connection reaches, its own included */
  roles: RoleFacts[] | null;
  /** the grants among them (one per grantor from Postgres 16 on) */
  memberships: MembershipFacts[] | null;
  functions: FunctionFacts[] | null;
}

export interface RoleFacts {
  name: string;
  superuser: boolean;
  createrole: boolean;
  bypassrls: boolean;
  replication: boolean;
  /** the connection has this role's privileges */
  inherits: boolean;
  /** the connection can SET ROLE to it */
  can_set: boolean;
  uses_app: boolean;
  app_grantee: boolean;
  app_owner: boolean;
}

export interface MembershipFacts {
  member: string;
  role: string;
  /** revoking a grant on Postgres 16 and later names its grantor, unless it is the bootstrap superuser */
  grantor: string;
  bootstrap: boolean;
}

/** A reached role with the shortest way to it, from the connection's own role. */
interface Reached extends RoleFacts {
  path: string[];
  firstGrants: MembershipFacts[];
}

/**
 * The shortest path to each role, breadth first over the grants: the catalog returns each grant
 * once, where enumerating paths in SQL could grow with every role that two others both reach.
 */
function reachedRoles(facts: ReaderRoleFacts): Reached[] {
  const grants = facts.memberships ?? [];
  const paths = new Map<string, string[]>();
  let frontier = [...new Set([facts.role, facts.current])];
  for (const start of frontier) paths.set(start, [start]);
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const member of frontier) {
      const path = paths.get(member) ?? [member];
      for (const grant of grants.filter((candidate) => candidate.member === member).sort((a, b) => (a.role < b.role ? -1 : a.role > b.role ? 1 : 0))) {
        if (paths.has(grant.role)) continue;
        paths.set(grant.role, [...path, grant.role]);
        next.push(grant.role);
      }
    }
    frontier = next;
  }
  return (facts.roles ?? [])
    .map((role) => {
      const path = paths.get(role.name) ?? [facts.role, role.name];
      const firstGrants = grants.filter((grant) => grant.member === path[0] && grant.role === path[1]);
      return { ...role, path, firstGrants };
    })
    .sort((a, b) => a.path.length - b.path.length || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export interface FunctionFacts {
  name: string;
  schema: string;
  /** the argument types, as REVOKE … ON FUNCTION takes them */
  args: string;
  /** name and argument types, schema-qualified when not on the search path */
  label: string;
  extension: string | null;
  public: boolean;
  /** reachable roles (superusers aside) granted EXECUTE by name */
  grantees: string[];
  /** the function's owner, when the connection can reach it */
  owner: string | null;
}

/** Separate LIKEs, not LIKE ANY: each is a range scan of pg_proc's name index. */
const PREFIX_CONDITIONS = FUNCTION_RISKS.flatMap((risk) => {
  if (risk.prefix === undefined) return [];
  const escape = (text: string) => text.replace(/[\\_%]/g, (character) => `\\${character}`);
  return [`or p.proname like '${escape(risk.prefix)}%${escape(risk.suffix ?? '')}'`];
}).join('\n        ');

/**
 * One statement, every catalog name qualified: the role checked may have a search_path of its own.
 * Superuser roles are left out of the per-role privilege checks: they are refused on their own,
 * and would otherwise match every function.
 */
const READER_ROLE_QUERY = String.raw`
with recursive
  reach(oid) as (
    select r.oid
      from pg_catalog.pg_roles r
     where r.rolname in (session_user, current_user)
    union
    select m.roleid
      from reach
      join pg_catalog.pg_auth_members m on m.member = reach.oid
  ),
  reachable as (
    select r.oid, r.rolname, r.rolsuper, r.rolcreaterole, r.rolbypassrls, r.rolreplication
      from reach
      join pg_catalog.pg_roles r on r.oid = reach.oid
  ),
  app as (
    -- The app's schema, known by its ledger: a warehouse's own schema named 'app' is no concern.
    select n.oid, n.nspacl, n.nspowner from pg_catalog.pg_namespace n
     where n.nspname = 'app'
       and exists (select 1 from pg_catalog.pg_class c where c.relnamespace = n.oid and c.relname = 'ledger')
  ),
  roles as (
    select x.rolname::text as name,
           x.rolsuper as superuser, x.rolcreaterole as createrole, x.rolbypassrls as bypassrls, x.rolreplication as replication,
           pg_catalog.pg_has_role(session_user, x.oid, 'USAGE') as inherits,
           case when pg_catalog.current_setting('server_version_num')::int >= 160000
                then pg_catalog.pg_has_role(session_user, x.oid, 'SET') else true end as can_set,
           coalesce(not x.rolsuper and pg_catalog.has_schema_privilege(x.oid, app.oid, 'USAGE'), false) as uses_app,
           coalesce(x.oid = any (select a.grantee from pg_catalog.aclexplode(app.nspacl) a where a.privilege_type = 'USAGE'), false) as app_grantee,
           coalesce(app.nspowner = x.oid, false) as app_owner
      from reachable x
      left join app on true
  ),
  memberships as (
    select pg_catalog.pg_get_userbyid(m.member)::text as member, pg_catalog.pg_get_userbyid(m.roleid)::text as role,
           pg_catalog.pg_get_userbyid(m.grantor)::text as grantor, m.grantor = 10 as bootstrap
      from pg_catalog.pg_auth_members m
     where m.member in (select reach.oid from reach)
  ),
  candidates as (
    select p.oid, null::text as extension
      from pg_catalog.pg_proc p
     where p.proname = any ($1::pg_catalog.name[])
        ${PREFIX_CONDITIONS}
    union
    select d.objid, e.extname::text
      from pg_catalog.pg_extension e
      join pg_catalog.pg_depend d on d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass and d.refobjid = e.oid
                                 and d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass and d.deptype = 'e'
     where e.extname = any ($2::pg_catalog.name[])
  ),
  functions as (
    select p.proname::text as name, n.nspname::text as schema, p.oid::pg_catalog.regprocedure::text as label,
           pg_catalog.oidvectortypes(p.proargtypes) as args, c.extension,
           p.proacl is null or 0::pg_catalog.oid = any (select a.grantee from pg_catalog.aclexplode(p.proacl) a where a.privilege_type = 'EXECUTE') as public,
           array(select x.rolname::text from reachable x
                  where not x.rolsuper
                    and x.oid = any (select a.grantee from pg_catalog.aclexplode(p.proacl) a where a.privilege_type = 'EXECUTE')
                  order by x.rolname) as grantees,
           (select x.rolname::text from reachable x where not x.rolsuper and x.oid = p.proowner) as owner
      from candidates c
      join pg_catalog.pg_proc p on p.oid = c.oid
      join pg_catalog.pg_namespace n on n.oid = p.pronamespace
     -- A catalog function still on its default ACL is one Postgres gives to PUBLIC and guards inside
     -- (pg_log_backend_memory_contexts on 14 checks for a superuser itself).
     where (c.extension is not null or p.proacl is not null)
       and exists (select from reachable x where not x.rolsuper and pg_catalog.has_function_privilege(x.oid, p.oid, 'EXECUTE'))
  )
select session_user::text as role,
       current_user::text as current,
       pg_catalog.current_database()::text as database,
       pg_catalog.current_setting('server_version_num')::int as server_version,
       coalesce((select 0::pg_catalog.oid = any (select a.grantee from pg_catalog.aclexplode(app.nspacl) a where a.privilege_type = 'USAGE') from app), false) as app_public,
       (select pg_catalog.json_agg(roles order by roles.name) from roles) as roles,
       (select pg_catalog.json_agg(memberships order by memberships.member, memberships.role, memberships.grantor) from memberships) as memberships,
       (select pg_catalog.json_agg(functions order by functions.schema, functions.name, functions.args) from functions) as functions
`;

function queryParameters(): unknown[] {
  return [CHECKED_FUNCTION_NAMES, CHECKED_EXTENSIONS];
}

/**
 * What the connection's role can do beyond reading, in one catalog query (a few milliseconds), on
 * a connection already open: it runs before every read, inside the read's own transaction.
 */
export async function inspectReaderRole(client: pg.ClientBase, options: { appRole?: string } = {}): Promise<ReaderRoleReport> {
  // The extended protocol carries exactly one statement.
  const query: pg.QueryConfig & { queryMode: 'extended' } = { text: READER_ROLE_QUERY, values: queryParameters(), queryMode: 'extended' };
  const result = await client.query<ReaderRoleFacts>(query);
  const facts = result.rows[0];
  if (!facts) throw new Error('the reader role query returned no row');
  return describeReaderRole(facts, options);
}

/** A name as it appears in a message: on one line, whatever characters it holds. */
function plain(name: string): string {
  // eslint-disable-next-line no-control-regex
  return name.replace(/[\u0000-\u001f\u007f]/g, '?');
}

function shown(name: string): string {
  return `'${plain(name)}'`;
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function revokeMembership(role: Reached, serverVersion: number): string[] {
  const [member, granted] = role.path;
  if (member === undefined || granted === undefined) return [];
  const revoke = `REVOKE ${quoteIdent(granted)} FROM ${quoteIdent(member)};`;
  // From 16 on, a membership is one grant per grantor, and REVOKE without GRANTED BY takes back
  // only the bootstrap superuser's (what any superuser's grant is recorded as).
  if (serverVersion < 160000) return [revoke];
  const statements = role.firstGrants.map((grant) => (grant.bootstrap ? revoke : `REVOKE ${quoteIdent(granted)} FROM ${quoteIdent(member)} GRANTED BY ${quoteIdent(grant.grantor)};`));
  return statements.length > 0 ? [...new Set(statements)] : [revoke];
}

function reachOf(role: RoleFacts): string {
  if (role.inherits && role.can_set) return 'it has its privileges and can SET ROLE to it';
  if (role.can_set) return 'it can SET ROLE to it';
  if (role.inherits) return 'it has its privileges';
  return 'a membership with neither INHERIT nor SET today, refused all the same';
}

/** Why a role the connection reaches through membership is refused, as noun phrases. */
function reasonsOf(role: RoleFacts, options: { appRole?: string }, appPublic: boolean): string[] {
  if (role.superuser) return ['a superuser'];
  const reasons: string[] = [];
  if (role.name.startsWith('pg_') && !HARMLESS_BUILT_IN_ROLES.has(role.name)) {
    reasons.push(`a built-in role that ${BUILT_IN_ROLES[role.name] ?? 'gives more than reading granted tables'}`);
  }
  if (role.createrole) reasons.push('a role with CREATEROLE');
  if (role.bypassrls) reasons.push('a role with BYPASSRLS');
  if (role.replication) reasons.push('a role with REPLICATION');
  if (options.appRole !== undefined && role.name === options.appRole) reasons.push("the app's own database role");
  if (!appPublic && (role.app_grantee || role.app_owner)) reasons.push("a role that can use the app's schema 'app' (ledger, configuration)");
  return reasons;
}

function ownRoleFindings(role: RoleFacts, facts: ReaderRoleFacts, options: { appRole?: string }): ReaderRoleFinding[] {
  const name = shown(role.name);
  const alter = (attribute: string) => [`ALTER ROLE ${quoteIdent(role.name)} ${attribute};`];
  const findings: ReaderRoleFinding[] = [];
  if (role.superuser) {
    findings.push({ problem: `role ${name} is a superuser: it can read server files, other databases' data and password hashes`, fix: alter('NOSUPERUSER') });
    return findings;
  }
  if (role.createrole) findings.push({ problem: `role ${name} has CREATEROLE: it can create roles and grant itself their privileges`, fix: alter('NOCREATEROLE') });
  if (role.bypassrls) findings.push({ problem: `role ${name} has BYPASSRLS: row-level security does not apply to it`, fix: alter('NOBYPASSRLS') });
  if (role.replication) findings.push({ problem: `role ${name} has REPLICATION: it can stream every change of the server`, fix: alter('NOREPLICATION') });
  if (options.appRole !== undefined && role.name === options.appRole) {
    findings.push({
      problem: `role ${name} is the app's own database role (DATABASE_URL's): segments must be read by a role of their own`,
      fix: ["-- give WAREHOUSE_DATABASE_URL a role of its own (created below), not the app's"],
    });
  }
  if (!facts.app_public && role.app_grantee) {
    findings.push({
      problem: `role ${name} can use the app's schema 'app' (ledger, configuration) in database ${shown(facts.database)}`,
      fix: [`REVOKE ALL ON SCHEMA "app" FROM ${quoteIdent(role.name)};`],
    });
  }
  if (!facts.app_public && role.app_owner) {
    findings.push({
      problem: `role ${name} owns the app's schema 'app' (ledger, configuration) in database ${shown(facts.database)}`,
      fix: [`-- let the app's own role own it: ALTER SCHEMA "app" OWNER TO <the role of DATABASE_URL>;`],
    });
  }
  return findings;
}

function functionFindings(facts: ReaderRoleFacts, refusedRoles: ReadonlySet<string>): ReaderRoleFinding[] {
  const self = facts.role;
  // A function only a refused role was granted goes with the membership in that role.
  const functions = (facts.functions ?? []).filter(
    (fn) => fn.public || (fn.grantees.length === 0 && fn.owner === null) || [...fn.grantees, ...(fn.owner === null ? [] : [fn.owner])].some((role) => !refusedRoles.has(role)),
  );
  const groups = new Map<string, FunctionFacts[]>();
  for (const fn of functions) {
    const key = fn.extension === null ? `function ${fn.schema}.${fn.name}` : `extension ${fn.extension}`;
    groups.set(key, [...(groups.get(key) ?? []), fn]);
  }
  const findings: ReaderRoleFinding[] = [];
  for (const group of groups.values()) {
    const [first] = group;
    if (!first) continue;
    const grantees = [...new Set(group.flatMap((fn) => fn.grantees))].filter((role) => !refusedRoles.has(role));
    const owners = [...new Set(group.flatMap((fn) => (fn.owner === null ? [] : [fn.owner])))].filter((role) => !refusedRoles.has(role));
    const through = [
      ...(group.some((fn) => fn.public) ? ['PUBLIC'] : []),
      ...grantees.map((role) => (role === self ? 'it' : `${shown(role)}, a role it is a member of`)),
    ];
    const via =
      through.length > 0
        ? `granted to ${through.join(' and to ')}`
        : owners.length > 0
          ? `owned by ${owners.map(shown).join(', ')}`
          : 'through a role it is a member of';
    const fix: string[] = [];
    for (const fn of group) {
      const target = `FUNCTION ${quoteIdent(fn.schema)}.${quoteIdent(fn.name)}(${fn.args})`;
      if (fn.public) fix.push(`REVOKE EXECUTE ON ${target} FROM PUBLIC;`);
      for (const role of fn.grantees) if (!refusedRoles.has(role)) fix.push(`REVOKE EXECUTE ON ${target} FROM ${quoteIdent(role)};`);
      if (fn.owner !== null && !refusedRoles.has(fn.owner)) fix.push(`-- ${plain(fn.owner)} owns it: ALTER ${target} OWNER TO <an administrator>;`);
    }
    if (fix.length === 0) fix.push(`-- find which role grants it EXECUTE on ${plain(first.label)} (\\df+ in psql) and revoke it there`);
    if (first.extension !== null) {
      const risk = EXTENSION_RISKS[first.extension];
      const named = risk?.named ?? [];
      const names = [...new Set(group.map((fn) => fn.name))].sort((a, b) => (named.includes(b) ? 1 : 0) - (named.includes(a) ? 1 : 0));
      const listed = names.length > 4 ? `${names.slice(0, 4).join(', ')}, …` : names.join(', ');
      fix.push(`-- or, if nothing in this database uses it: DROP EXTENSION ${quoteIdent(first.extension)};`);
      findings.push({
        problem: `role ${shown(self)} can execute the functions of extension ${first.extension} (${group.length} of them: ${listed}; ${via}): ${risk?.what ?? 'they reach beyond reading'}`,
        fix,
      });
    } else {
      findings.push({
        problem: `role ${shown(self)} can execute ${group.map((fn) => plain(fn.label)).join(', ')} (${via}): it ${riskOfFunction(first.name) ?? 'does more than read'}`,
        fix,
      });
    }
  }
  return findings;
}

/** What the catalog facts mean: every problem, with the SQL that takes it away. */
export function describeReaderRole(facts: ReaderRoleFacts, options: { appRole?: string } = {}): ReaderRoleReport {
  const roles = reachedRoles(facts);
  const findings: ReaderRoleFinding[] = [];
  for (const role of roles.filter((candidate) => candidate.path.length === 1)) findings.push(...ownRoleFindings(role, facts, options));
  if (facts.app_public) {
    findings.push({
      problem: `every role (PUBLIC) can use the app's schema 'app' (ledger, configuration) in database ${shown(facts.database)}, role ${shown(facts.role)} too`,
      fix: ['REVOKE ALL ON SCHEMA "app" FROM PUBLIC;'],
    });
  }
  // Roles whose membership is revoked: what they hold goes with them.
  const refusedRoles = new Set<string>();
  for (const role of roles.filter((candidate) => candidate.path.length > 1)) {
    const reasons = reasonsOf(role, options, facts.app_public);
    if (reasons.length === 0) continue;
    // Reached through a role already refused (pg_monitor's own members, say): taken away with it.
    const implied = role.path.slice(1, -1).some((name) => refusedRoles.has(name));
    refusedRoles.add(role.name);
    if (implied) continue;
    const [member] = role.path;
    const route = role.path.length > 2 ? ` (${role.path.map(plain).join(' → ')})` : '';
    findings.push({
      problem: `role ${shown(member ?? facts.role)} is a member of ${shown(role.name)}${route}, ${reasons.join(' and ')}: ${reachOf(role)}`,
      fix: revokeMembership(role, facts.server_version),
    });
  }
  // Privileges on the app's schema that no role holds by name, nor a refused role's (pg_read_all_data) explains.
  const unexplained = refusedRoles.size === 0 && !roles.some((role) => !role.superuser && (role.app_grantee || role.app_owner));
  if (!facts.app_public && unexplained && roles.some((role) => role.uses_app)) {
    findings.push({
      problem: `role ${shown(facts.role)} can use the app's schema 'app' (ledger, configuration) in database ${shown(facts.database)} through a role it is a member of`,
      fix: ['-- revoke USAGE on schema "app" from the role that has it (\\dn+ app in psql)'],
    });
  }
  findings.push(...functionFindings(facts, refusedRoles));
  return { role: facts.role, database: facts.database, problems: findings.map((finding) => finding.problem), findings };
}

/** The problems in one line, for a run's failure reason. */
export function readerRoleSummary(problems: readonly string[]): string {
  return `the warehouse role may do more than read segments: ${problems.join('; ')}; run \`cli reader-sql\` for the SQL that creates a least-privilege reader`;
}

export interface ReaderRoleErrorDetails {
  role: string;
  database: string;
  /** each problem with the SQL that takes it away */
  findings?: readonly ReaderRoleFinding[];
  /** what the activations read, for the grants of the role to create instead */
  sources?: readonly SourceRef[];
}

export class ReaderRoleError extends PublicError {
  override readonly name = 'ReaderRoleError';
  /** the SQL that takes away what the role can do beyond reading, problem by problem */
  readonly fixSql: readonly string[];
  /** the SQL that creates a least-privilege reader instead */
  readonly setupSql: string;
  /** one line: the problems and where to find the SQL */
  readonly summary: string;

  constructor(
    readonly problems: readonly string[],
    details: ReaderRoleErrorDetails,
  ) {
    const fixSql = [...new Set((details.findings ?? []).flatMap((finding) => finding.fix))];
    const setupSql = readerRoleSql({ database: details.database, sources: details.sources ?? [] });
    const listed = problems.map((problem) => `  - ${problem}`).join('\n');
    const indented = (lines: readonly string[]) => lines.map((line) => `  ${line}`).join('\n');
    super(
      fixSql.length > 0
        ? `The warehouse connection (role ${shown(details.role)}) may do more than read the segments it was granted:\n${listed}\n` +
            `Take that away (as an administrator of the warehouse) with:\n\n${indented(fixSql)}\n\n` +
            `or read segments with a role of their own, created with:\n\n${setupSql}\n`
        : `The warehouse connection (role ${shown(details.role)}) may do more than read the segments it was granted:\n${listed}\n` +
            `Segments must be read by a role of their own. Create it (as an administrator of the warehouse) with:\n\n${setupSql}\n`,
    );
    this.fixSql = fixSql;
    this.setupSql = setupSql;
    this.summary = readerRoleSummary(problems);
  }
}

/** What is wrong with the warehouse connection's role, or an empty list. */
export async function readerRoleProblems(warehouse: Warehouse, options: { appRole?: string } = {}): Promise<ReaderRoleReport> {
  return await warehouse.read(
    { statementTimeoutMs: 15_000 },
    async (session) => {
      const result = await session.query<ReaderRoleFacts>({ sql: READER_ROLE_QUERY, parameters: queryParameters() });
      const facts = result.rows[0];
      if (!facts) throw new Error('the reader role query returned no row');
      return describeReaderRole(facts, options);
    },
    // The check is this read's whole purpose: it reports what the read's own check would refuse.
    { checkRole: false },
  );
}

/** Throws ReaderRoleError, with the SQL to fix it, when the warehouse role may do more than read. */
export async function assertReaderRole(warehouse: Warehouse, sources: readonly SourceRef[] = [], options: { appRole?: string } = {}): Promise<void> {
  const report = await readerRoleProblems(warehouse, options);
  if (report.problems.length > 0) throw new ReaderRoleError(report.problems, { ...report, sources });
}

/** An activation's id and what it reads, for a role of its own. */
export interface ActivationSource {
  id: string;
  source: SourceRef;
}

const ROLE_NAME_MAX_BYTES = 63;

/** Cuts text to at most `bytes` UTF-8 bytes without splitting a character. */
function cutToBytes(text: string, bytes: number): string {
  let cut = '';
  for (const character of text) {
    if (Buffer.byteLength(cut + character) > bytes) break;
    cut += character;
  }
  return cut;
}

/**
 * The role of one activation: `<prefix>_<id>` with the id's dashes as underscores. A name Postgres
 * would truncate (63 bytes) is cut and ends with a hash of the id, so two activations never share one.
 */
export function activationRoleName(activationId: string, prefix: string = PER_ACTIVATION_ROLE_PREFIX): string {
  const name = `${prefix}_${activationId.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`;
  if (Buffer.byteLength(name) <= ROLE_NAME_MAX_BYTES) return name;
  const hash = createHash('sha256').update(activationId).digest('hex').slice(0, 8);
  return `${cutToBytes(name, ROLE_NAME_MAX_BYTES - hash.length - 1)}_${hash}`;
}

function roleGrants(role: string, database: string, sources: readonly SourceRef[]): string[] {
  const quoted = quoteIdent(role);
  const tables = sources.filter((source) => source.kind !== 'query');
  const schemas = [...new Set(tables.map((source) => source.schema))];
  return [
    `CREATE ROLE ${quoted} LOGIN PASSWORD '<choose a password>' NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;`,
    `GRANT CONNECT ON DATABASE ${quoteIdent(database)} TO ${quoted};`,
    ...schemas.map((schema) => `GRANT USAGE ON SCHEMA ${quoteIdent(schema)} TO ${quoted};`),
    ...[...new Set(tables.map((source) => `GRANT SELECT ON ${quoteIdent(source.schema)}.${quoteIdent(source.name)} TO ${quoted};`))],
  ];
}

function perActivationSql(database: string, activations: readonly ActivationSource[], prefix: string): string[] {
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
