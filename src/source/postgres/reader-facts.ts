import { CHECKED_EXTENSIONS, CHECKED_FUNCTION_NAMES, FUNCTION_RISKS } from './reader-risks.ts';

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
export interface Reached extends RoleFacts {
  path: string[];
  firstGrants: MembershipFacts[];
}

/**
 * The shortest path to each role, breadth first over the grants: the catalog returns each grant
 * once, where enumerating paths in SQL could grow with every role that two others both reach.
 */
export function reachedRoles(facts: ReaderRoleFacts): Reached[] {
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
export const PREFIX_CONDITIONS = FUNCTION_RISKS.flatMap((risk) => {
  if (risk.prefix === undefined) return [];
  const escape = (text: string) => text.replace(/[\\_%]/g, (character) => `\\${character}`);
  return [`or p.proname like '${escape(risk.prefix)}%${escape(risk.suffix ?? '')}'`];
}).join('\n        ');

/**
 * One statement, every catalog name qualified: the role checked may have a search_path of its own.
 * Superuser roles are left out of the per-role privilege checks: they are refused on their own,
 * and would otherwise match every function.
 */
export const READER_ROLE_QUERY = String.raw`
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

export function queryParameters(): unknown[] {
  return [CHECKED_FUNCTION_NAMES, CHECKED_EXTENSIONS];
}
