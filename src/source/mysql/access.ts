import { AccessRefused } from '../errors.ts';
import type { AccessReport } from '../types.ts';
import type { MySqlSession } from './connection.ts';
import { textOf } from './sql.ts';
import { accountText, databaseCovers, objectText, parseGrant, type Account, type Grant } from './grants.ts';

/**
 * What a MySQL or MariaDB user may do beyond reading what it was granted, from `SHOW GRANTS`: its
 * own grants, and those of every role it has (a role it may `SET ROLE` to counts, active or not).
 * Only SELECT and SHOW VIEW on databases, tables and columns (and USAGE, which is nothing) are a
 * reader's; anything else is refused with the REVOKE that takes it away.
 */

/** What a reader may hold: SELECT and SHOW VIEW, below the global level. USAGE grants nothing. */
const READER_PRIVILEGES = new Set(['SELECT', 'SHOW VIEW', 'USAGE']);

/** What a global privilege lets a segment's SQL (or whoever holds the URL) do. */
const GLOBAL_RISKS: Readonly<Record<string, string>> = {
  'ALL PRIVILEGES': 'it has every privilege on the server',
  'ALL': 'it has every privilege on the server',
  FILE: 'it can read and write files on the server (LOAD_FILE, SELECT … INTO OUTFILE)',
  SUPER: "it can change server settings, end other sessions and write while the server is read-only",
  PROCESS: "it can see every session's statements, other activations' queries among them",
  RELOAD: 'it can flush and reload the server',
  SHUTDOWN: 'it can stop the server',
  'CREATE USER': "it can create users and change other users' passwords",
  'REPLICATION SLAVE': 'it can stream every change made on the server',
  'REPLICATION CLIENT': 'it can read the state of replication and the binary logs',
  'BINLOG MONITOR': 'it can read the state of the binary logs',
  'CONNECTION ADMIN': 'it can end other sessions',
  'SYSTEM_VARIABLES_ADMIN': 'it can change server settings',
};

export interface AccessFinding {
  problem: string;
  fix: string[];
}

const sameAccount = (a: Account, b: Account) => a.name === b.name && (a.host ?? '') === (b.host ?? '');

function accountOf(current: string): Account {
  const at = current.lastIndexOf('@');
  return at === -1 ? { name: current, host: undefined } : { name: current.slice(0, at), host: current.slice(at + 1) };
}

async function showGrants(session: MySqlSession, sql = 'SHOW GRANTS'): Promise<string[]> {
  const { rows } = await session.queryArrays(sql);
  return rows.map((row) => textOf(row[0]) ?? '');
}

/** Every grant line of the user and of the roles it can reach, each once. */
async function collectGrants(session: MySqlSession, user: Account): Promise<{ lines: string[]; roleLines: Set<string> }> {
  const own = await showGrants(session);
  const lines = new Set(own);
  const roleLines = new Set<string>();
  const roles = own.map(parseGrant).flatMap((grant) => (grant.kind === 'roles' && sameAccount(grant.grantee, user) ? grant.roles : []));
  if (roles.length === 0) return { lines: [...lines], roleLines };
  if (session.server.flavor === 'mysql') {
    // MySQL 8 shows what roles grant when asked: `USING` lists the privileges they add.
    const using = await showGrants(session, `SHOW GRANTS FOR CURRENT_USER() USING ${roles.map(accountText).join(', ')}`);
    for (const line of using) if (!lines.has(line)) roleLines.add(line);
  } else {
    // MariaDB shows the grants of the active role and its roles: each role is made active in turn.
    try {
      for (const role of roles) {
        await session.query(`SET ROLE ${accountText(role)}`);
        for (const line of await showGrants(session)) if (!lines.has(line)) lines.add(line);
      }
    } finally {
      await session.query(session.server.role === undefined ? 'SET ROLE NONE' : `SET ROLE ${accountText({ name: session.server.role, host: undefined })}`);
    }
  }
  return { lines: [...lines, ...roleLines], roleLines };
}

/** The path of roles from the user to `grantee`, through the role grants seen. */
function roleChain(grants: readonly Grant[], user: Account, grantee: Account): string[] {
  const queue: { account: Account; path: string[] }[] = [{ account: user, path: [] }];
  const seen = new Set<string>();
  while (queue.length > 0) {
    const { account, path } = queue.shift() as { account: Account; path: string[] };
    if (sameAccount(account, grantee)) return path;
    for (const grant of grants) {
      if (grant.kind !== 'roles' || !sameAccount(grant.grantee, account)) continue;
      for (const role of grant.roles) {
        const key = accountText(role);
        if (seen.has(key)) continue;
        seen.add(key);
        queue.push({ account: role, path: [...path, key] });
      }
    }
  }
  return [accountText(grantee)];
}

function describeGrant(grant: Grant, who: string, fromAccount: string): AccessFinding[] {
  const findings: AccessFinding[] = [];
  if (grant.kind === 'unreadable') {
    findings.push({ problem: `${who} has a grant this check cannot read (${grant.head.replace(/\s+/g, ' ')}): refused, to be safe`, fix: [`-- look at SHOW GRANTS FOR ${fromAccount}; and revoke what is more than SELECT`] });
  } else if (grant.kind === 'proxy') {
    findings.push({ problem: `${who} may act as another user (PROXY on ${accountText(grant.target)})`, fix: [`REVOKE PROXY ON ${accountText(grant.target)} FROM ${fromAccount};`] });
  } else if (grant.kind === 'roles' && grant.adminOption) {
    findings.push({ problem: `${who} may grant role(s) ${grant.roles.map(accountText).join(', ')} to others (WITH ADMIN OPTION)`, fix: grant.roles.map((role) => `REVOKE ${accountText(role)} FROM ${fromAccount};`) });
  } else if (grant.kind === 'privileges') {
    const object = objectText(grant.object);
    const global = grant.object.database === '*';
    const extra = grant.privileges.filter((privilege) => !READER_PRIVILEGES.has(privilege) || (global && privilege !== 'USAGE'));
    const mysqlSchema = grant.privileges.some((privilege) => privilege !== 'USAGE') && (grant.object.table === '*' ? databaseCovers(grant.object.database, 'mysql') : grant.object.database.toLowerCase() === 'mysql');
    if (global) {
      for (const privilege of extra) {
        const risk = GLOBAL_RISKS[privilege] ?? (privilege === 'SELECT' ? 'it can read every database, the mysql schema (users, password hashes) among them' : 'it may do more than read on every database');
        findings.push({ problem: `${who} has the global privilege ${privilege}: ${risk}`, fix: [`REVOKE ${privilege} ON *.* FROM ${fromAccount};`] });
      }
    } else {
      if (extra.length > 0) {
        findings.push({
          problem: `${who} may ${extra.join(', ')} on ${object}: a segment needs only SELECT`,
          fix: [`REVOKE ${extra.join(', ')} ON ${object} FROM ${fromAccount};`],
        });
      }
      if (mysqlSchema && extra.length < grant.privileges.length) {
        findings.push({
          problem: `${who} can read the mysql schema (${object}): users and password hashes`,
          fix: [`REVOKE ${grant.privileges.filter((privilege) => !extra.includes(privilege)).join(', ')} ON ${object} FROM ${fromAccount};`],
        });
      }
    }
    if (grant.grantOption) findings.push({ problem: `${who} may grant its privileges on ${object} to others (WITH GRANT OPTION)`, fix: [`REVOKE GRANT OPTION ON ${object} FROM ${fromAccount};`] });
  }
  return findings;
}

/** Every problem of the session's user, with the SQL that takes it away. */
export async function inspectAccess(session: MySqlSession): Promise<AccessReport> {
  const user = accountOf(session.server.account);
  const userText = accountText(user);
  const { lines, roleLines } = await collectGrants(session, user);
  const parsed = lines.map(parseGrant);
  const findings: AccessFinding[] = [];
  lines.forEach((line, index) => {
    const grant = parsed[index] as Grant;
    const grantee = 'grantee' in grant ? grant.grantee : user;
    if (roleLines.has(line) || !sameAccount(grantee, user)) {
      // A role's grant: taken away by revoking the role from the user (or the grant from the role).
      const chain = roleLines.has(line) ? ['its roles'] : roleChain(parsed, user, grantee);
      const [first] = chain;
      const who = roleLines.has(line) ? `user ${userText}, through its roles,` : `role ${accountText(grantee)} (which ${userText} has through ${chain.join(' → ')})`;
      for (const finding of describeGrant(grant, who, accountText(grantee))) {
        const revokeRole = first === undefined || roleLines.has(line) ? `-- revoke the role that grants it: REVOKE <role> FROM ${userText};` : `REVOKE ${first} FROM ${userText};`;
        findings.push({ problem: finding.problem, fix: [revokeRole, ...finding.fix.map((statement) => `-- or, for every holder of the role: ${statement}`)] });
      }
    } else {
      findings.push(...describeGrant(grant, `user ${userText}`, userText));
    }
  });
  return {
    identity: userText,
    location: `${session.server.flavor === 'mariadb' ? 'MariaDB' : 'MySQL'} ${session.server.version}`,
    problems: findings.map((finding) => finding.problem),
    findings,
  };
}

/** The user may do more than read: found before a read, or at start, validate and apply. */
export class MySqlAccessRefused extends AccessRefused {
  override readonly name = 'MySqlAccessRefused';
  constructor(readonly report: AccessReport) {
    const listed = report.problems.map((problem) => `  - ${problem}`).join('\n');
    const fixes = [...new Set(report.findings.flatMap((finding) => finding.fix))].map((line) => `  ${line}`).join('\n');
    super(
      `The warehouse connection (${report.identity} on ${report.location}) may do more than read the segments it was granted:\n${listed}\nTake that away (as an administrator of the warehouse) with:\n\n${fixes}\n`,
      report.problems,
      `the warehouse user may do more than read segments: ${report.problems.join('; ')}; run \`cli reader-sql\` for the SQL that creates a least-privilege reader`,
    );
  }
}
