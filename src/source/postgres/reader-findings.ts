import { BUILT_IN_ROLES, EXTENSION_RISKS, HARMLESS_BUILT_IN_ROLES, riskOfFunction } from './reader-risks.ts';
import { type FunctionFacts, type Reached, type ReaderRoleFacts, type ReaderRoleFinding, type ReaderRoleReport, type RoleFacts, reachedRoles } from './reader-facts.ts';

/** A name as it appears in a message: on one line, whatever characters it holds. */
export function plain(name: string): string {
  // eslint-disable-next-line no-control-regex
  return name.replace(/[\u0000-\u001f\u007f]/g, '?');
}

export function shown(name: string): string {
  return `'${plain(name)}'`;
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function revokeMembership(role: Reached, serverVersion: number): string[] {
  const [member, granted] = role.path;
  if (member === undefined || granted === undefined) return [];
  const revoke = `REVOKE ${quoteIdent(granted)} FROM ${quoteIdent(member)};`;
  // From 16 on, a membership is one grant per grantor, and REVOKE without GRANTED BY takes back
  // only the bootstrap superuser's (what any superuser's grant is recorded as).
  if (serverVersion < 160000) return [revoke];
  const statements = role.firstGrants.map((grant) => (grant.bootstrap ? revoke : `REVOKE ${quoteIdent(granted)} FROM ${quoteIdent(member)} GRANTED BY ${quoteIdent(grant.grantor)};`));
  return statements.length > 0 ? [...new Set(statements)] : [revoke];
}

export function reachOf(role: RoleFacts): string {
  if (role.inherits && role.can_set) return 'it has its privileges and can SET ROLE to it';
  if (role.can_set) return 'it can SET ROLE to it';
  if (role.inherits) return 'it has its privileges';
  return 'a membership with neither INHERIT nor SET today, refused all the same';
}

/** Why a role the connection reaches through membership is refused, as noun phrases. */
export function reasonsOf(role: RoleFacts, options: { appRole?: string }, appPublic: boolean): string[] {
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

export function ownRoleFindings(role: RoleFacts, facts: ReaderRoleFacts, options: { appRole?: string }): ReaderRoleFinding[] {
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

export function functionFindings(facts: ReaderRoleFacts, refusedRoles: ReadonlySet<string>): ReaderRoleFinding[] {
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
