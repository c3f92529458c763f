import { describe, expect, it } from 'vitest';
import {
  ReaderRoleError,
  activationRoleName,
  describeReaderRole,
  readerRoleSql,
  readerRoleSummary,
  type FunctionFacts,
  type MembershipFacts,
  type ReaderRoleFacts,
  type RoleFacts,
} from '../../src/source/postgres/reader-role.ts';

interface TestRole extends RoleFacts {
  path: string[];
}

function role(path: string[], overrides: Partial<RoleFacts> = {}): TestRole {
  return {
    name: path[path.length - 1] ?? 'reader',
    path,
    superuser: false,
    createrole: false,
    bypassrls: false,
    replication: false,
    inherits: true,
    can_set: true,
    uses_app: false,
    app_grantee: false,
    app_owner: false,
    ...overrides,
  };
}

function fn(name: string, overrides: Partial<FunctionFacts> = {}): FunctionFacts {
  return { name, schema: 'pg_catalog', args: 'text', label: `${name}(text)`, extension: null, public: false, grantees: [], owner: null, ...overrides };
}

/** The catalog's answer for these roles, each granted along its path by the bootstrap superuser unless `memberships` says otherwise. */
function facts(roles: TestRole[], overrides: Partial<ReaderRoleFacts> = {}): ReaderRoleFacts {
  const grants = new Map<string, MembershipFacts>();
  for (const { path } of roles) {
    for (let hop = 1; hop < path.length; hop++) {
      const member = path[hop - 1] ?? '';
      const granted = path[hop] ?? '';
      grants.set(`${member}→${granted}`, { member, role: granted, grantor: 'postgres', bootstrap: true });
    }
  }
  return {
    role: 'reader',
    current: 'reader',
    database: 'analytics',
    server_version: 180004,
    app_public: false,
    roles: roles.map(({ path: _path, ...facts }) => facts),
    memberships: [...grants.values()],
    functions: null,
    ...overrides,
  };
}

const reader = role(['reader']);

describe('describeReaderRole', () => {
  it('finds nothing wrong with a role that is a member of nothing and can execute nothing listed', () => {
    expect(describeReaderRole(facts([reader]), { appRole: 'app' })).toEqual({ role: 'reader', database: 'analytics', problems: [], findings: [] });
  });

  it('refuses a superuser role it can SET ROLE to without inheriting it, and revokes that membership', () => {
    const report = describeReaderRole(facts([reader, role(['reader', 'admin'], { superuser: true, inherits: false })]));
    expect(report.findings).toEqual([{ problem: "role 'reader' is a member of 'admin', a superuser: it can SET ROLE to it", fix: ['REVOKE "admin" FROM "reader";'] }]);
  });

  it('names the grantor of a membership from Postgres 16 on, and not before', () => {
    const memberships = [
      { member: 'reader', role: 'ops', grantor: 'postgres', bootstrap: true },
      { member: 'reader', role: 'ops', grantor: 'team lead', bootstrap: false },
    ];
    const reached = role(['reader', 'ops'], { superuser: true });
    expect(describeReaderRole(facts([reader, reached], { memberships })).findings[0]?.fix).toEqual([
      'REVOKE "ops" FROM "reader";',
      'REVOKE "ops" FROM "reader" GRANTED BY "team lead";',
    ]);
    expect(describeReaderRole(facts([reader, reached], { memberships, server_version: 140023 })).findings[0]?.fix).toEqual(['REVOKE "ops" FROM "reader";']);
  });

  it('shows the path to a built-in role two hops away, and not again the roles reached through it', () => {
    const report = describeReaderRole(
      facts([reader, role(['reader', 'ops']), role(['reader', 'ops', 'pg_monitor']), role(['reader', 'ops', 'pg_monitor', 'pg_read_all_settings'])]),
    );
    expect(report.problems).toEqual([
      "role 'reader' is a member of 'pg_monitor' (reader → ops → pg_monitor), a built-in role that sees every session's queries, every setting and the server's log and WAL files: it has its privileges and can SET ROLE to it",
    ]);
    expect(report.findings[0]?.fix).toEqual(['REVOKE "ops" FROM "reader";']);
  });

  it('finds the shortest path through roles that several others reach', () => {
    const layers = Array.from({ length: 6 }, (_, layer) => Array.from({ length: 6 }, (_, index) => `l${layer}_${index}`));
    const memberships: MembershipFacts[] = [];
    for (const first of layers[0] ?? []) memberships.push({ member: 'reader', role: first, grantor: 'postgres', bootstrap: true });
    layers.slice(1).forEach((layer, index) => {
      for (const member of layers[index] ?? []) for (const granted of layer) memberships.push({ member, role: granted, grantor: 'postgres', bootstrap: true });
    });
    memberships.push({ member: 'l5_5', role: 'pg_signal_backend', grantor: 'postgres', bootstrap: true });
    const all = [reader, ...layers.flat().map((name) => role([name])), role(['pg_signal_backend'])].map((entry) => ({ ...entry, path: [entry.name] }));
    const report = describeReaderRole({ ...facts([]), roles: all, memberships });
    expect(report.problems).toEqual([
      "role 'reader' is a member of 'pg_signal_backend' (reader → l0_0 → l1_0 → l2_0 → l3_0 → l4_0 → l5_5 → pg_signal_backend), a built-in role that cancels and terminates other sessions: it has its privileges and can SET ROLE to it",
    ]);
    expect(report.findings[0]?.fix).toEqual(['REVOKE "l0_0" FROM "reader";']);
  });

  it('refuses every built-in role but pg_database_owner, including ones a newer release adds', () => {
    const report = describeReaderRole(facts([reader, role(['reader', 'pg_database_owner']), role(['reader', 'pg_some_future_role'])]));
    expect(report.problems).toEqual(["role 'reader' is a member of 'pg_some_future_role', a built-in role that gives more than reading granted tables: it has its privileges and can SET ROLE to it"]);
  });

  it("refuses the role's own attributes with the ALTER ROLE that removes each", () => {
    const report = describeReaderRole(facts([role(['reader'], { createrole: true, bypassrls: true, replication: true })]));
    expect(report.findings.map((finding) => finding.fix)).toEqual([['ALTER ROLE "reader" NOCREATEROLE;'], ['ALTER ROLE "reader" NOBYPASSRLS;'], ['ALTER ROLE "reader" NOREPLICATION;']]);
    const superuser = describeReaderRole(facts([role(['reader'], { superuser: true, createrole: true })]));
    expect(superuser.problems).toEqual(["role 'reader' is a superuser: it can read server files, other databases' data and password hashes"]);
  });

  it("refuses the app's own role by name, as the connection's role or as a role it reaches", () => {
    expect(describeReaderRole(facts([reader]), { appRole: 'reader' }).problems).toEqual([
      "role 'reader' is the app's own database role (DATABASE_URL's): segments must be read by a role of their own",
    ]);
    expect(describeReaderRole(facts([reader, role(['reader', 'tpi_app'])]), { appRole: 'tpi_app' }).problems).toEqual([
      "role 'reader' is a member of 'tpi_app', the app's own database role: it has its privileges and can SET ROLE to it",
    ]);
  });

  it("refuses the app's schema granted to the role, to a role it reaches, or to PUBLIC", () => {
    const granted = describeReaderRole(facts([role(['reader'], { uses_app: true, app_grantee: true })]));
    expect(granted.findings).toEqual([
      { problem: "role 'reader' can use the app's schema 'app' (ledger, configuration) in database 'analytics'", fix: ['REVOKE ALL ON SCHEMA "app" FROM "reader";'] },
    ]);
    const reached = describeReaderRole(facts([role(['reader'], { inherits: true }), role(['reader', 'app_readers'], { uses_app: true, app_grantee: true, inherits: false })]));
    expect(reached.problems).toEqual([
      "role 'reader' is a member of 'app_readers', a role that can use the app's schema 'app' (ledger, configuration): it can SET ROLE to it",
    ]);
    const everyone = describeReaderRole(facts([role(['reader'], { uses_app: true })], { app_public: true }));
    expect(everyone.findings).toEqual([
      { problem: "every role (PUBLIC) can use the app's schema 'app' (ledger, configuration) in database 'analytics', role 'reader' too", fix: ['REVOKE ALL ON SCHEMA "app" FROM PUBLIC;'] },
    ]);
  });

  it('groups a function granted to PUBLIC by name, with a REVOKE for each form', () => {
    const report = describeReaderRole(
      facts([reader], { functions: [fn('pg_read_file', { public: true }), fn('pg_read_file', { args: 'text, bigint, bigint', label: 'pg_read_file(text,bigint,bigint)', public: true })] }),
    );
    expect(report.findings).toEqual([
      {
        problem: "role 'reader' can execute pg_read_file(text), pg_read_file(text,bigint,bigint) (granted to PUBLIC): it reads the server's files",
        fix: ['REVOKE EXECUTE ON FUNCTION "pg_catalog"."pg_read_file"(text) FROM PUBLIC;', 'REVOKE EXECUTE ON FUNCTION "pg_catalog"."pg_read_file"(text, bigint, bigint) FROM PUBLIC;'],
      },
    ]);
  });

  it('leaves out a function only a refused role was granted, and names the role that holds one otherwise', () => {
    const monitor = role(['reader', 'pg_monitor']);
    const leftOut = describeReaderRole(facts([reader, monitor], { functions: [fn('pg_ls_logdir', { args: '', label: 'pg_ls_logdir()', grantees: ['pg_monitor'] })] }));
    expect(leftOut.problems).toHaveLength(1);
    const held = describeReaderRole(facts([reader, role(['reader', 'ops'])], { functions: [fn('pg_reload_conf', { args: '', label: 'pg_reload_conf()', grantees: ['ops'] })] }));
    expect(held.findings).toEqual([
      {
        problem: "role 'reader' can execute pg_reload_conf() (granted to 'ops', a role it is a member of): it controls the server (configuration reload, log rotation, promotion, WAL, backups)",
        fix: ['REVOKE EXECUTE ON FUNCTION "pg_catalog"."pg_reload_conf"() FROM "ops";'],
      },
    ]);
  });

  it("still names a function granted to the role itself when the role is refused for an attribute of its own", () => {
    const report = describeReaderRole(facts([role(['reader'], { createrole: true })], { functions: [fn('pg_stat_file', { grantees: ['reader'] })] }));
    expect(report.problems).toEqual([
      "role 'reader' has CREATEROLE: it can create roles and grant itself their privileges",
      "role 'reader' can execute pg_stat_file(text) (granted to it): it lists and inspects the server's files",
    ]);
    expect(report.findings[1]?.fix).toEqual(['REVOKE EXECUTE ON FUNCTION "pg_catalog"."pg_stat_file"(text) FROM "reader";']);
  });

  it("sums up an extension's functions in one problem, with the REVOKEs and the alternative of dropping it", () => {
    const functions = ['dblink_build_sql_delete', 'dblink', 'dblink_connect', 'dblink_exec', 'dblink_close'].map((name) =>
      fn(name, { schema: 'public', label: `${name}(text)`, extension: 'dblink', public: true }),
    );
    const [finding] = describeReaderRole(facts([reader], { functions })).findings;
    expect(finding?.problem).toBe(
      "role 'reader' can execute the functions of extension dblink (5 of them: dblink, dblink_connect, dblink_exec, dblink_build_sql_delete, …; granted to PUBLIC): they open connections of their own, outside the read-only transaction",
    );
    expect(finding?.fix).toContain('REVOKE EXECUTE ON FUNCTION "public"."dblink_connect"(text) FROM PUBLIC;');
    expect(finding?.fix.at(-1)).toBe('-- or, if nothing in this database uses it: DROP EXTENSION "dblink";');
  });

  it('keeps every problem on one line and quotes names in SQL, whatever characters a role name holds', () => {
    const odd = 'we"ird\nrole';
    const report = describeReaderRole(facts([reader, role(['reader', odd], { superuser: true })]));
    expect(report.problems[0]).toBe("role 'reader' is a member of 'we\"ird?role', a superuser: it has its privileges and can SET ROLE to it");
    expect(report.findings[0]?.fix).toEqual(['REVOKE "we""ird\nrole" FROM "reader";']);
  });
});

describe('ReaderRoleError', () => {
  const report = describeReaderRole(facts([reader, role(['reader', 'admin'], { superuser: true })], { functions: [fn('pg_read_file', { public: true })] }));

  it('lists the problems, then the SQL that fixes them, then the SQL of a proper role', () => {
    const error = new ReaderRoleError(report.problems, { ...report, sources: [{ kind: 'table', schema: 'shop', name: 'orders' }] });
    const message = error.message;
    for (const finding of report.findings) {
      expect(message).toContain(`  - ${finding.problem}\n`);
      for (const statement of finding.fix) expect(message.indexOf(statement)).toBeLessThan(message.indexOf('CREATE ROLE'));
    }
    expect(message.indexOf(report.problems[1] ?? '')).toBeLessThan(message.indexOf('REVOKE "admin" FROM "reader";'));
    expect(message).toContain('GRANT SELECT ON "shop"."orders" TO "trustpilot_segment_reader";');
    expect(error.fixSql).toEqual(['REVOKE "admin" FROM "reader";', 'REVOKE EXECUTE ON FUNCTION "pg_catalog"."pg_read_file"(text) FROM PUBLIC;']);
  });

  it('still explains itself with the problems alone', () => {
    const error = new ReaderRoleError(['role \'reader\' is a superuser: …'], { role: 'reader', database: 'analytics' });
    expect(error.message).toContain('Segments must be read by a role of their own');
    expect(error.message).toContain('GRANT CONNECT ON DATABASE "analytics"');
  });

  it('has a one-line form for a run failure reason', () => {
    const error = new ReaderRoleError(report.problems, report);
    expect(error.summary).toBe(readerRoleSummary(report.problems));
    expect(error.summary).not.toContain('\n');
    expect(error.summary).toContain(report.problems[0]);
    expect(error.summary).toMatch(/run `cli reader-sql` for the SQL that creates a least-privilege reader$/);
  });
});

describe('one reader role per activation', () => {
  it("names a role after its activation's id, within Postgres' 63 bytes and never the same for two ids", () => {
    expect(activationRoleName('demo-orders')).toBe('trustpilot_reader_demo_orders');
    expect(activationRoleName('demo-orders', 'acme')).toBe('acme_demo_orders');
    const long = `a${'-b'.repeat(31)}`;
    const other = `a${'-b'.repeat(30)}-c`;
    expect(Buffer.byteLength(activationRoleName(long))).toBeLessThanOrEqual(63);
    expect(activationRoleName(long)).not.toBe(activationRoleName(other));
    expect(Buffer.byteLength(activationRoleName(long, 'é'.repeat(40)))).toBeLessThanOrEqual(63);
  });

  it('grants each role only what its activation reads, and says why roles are not shared', () => {
    const sql = readerRoleSql({
      database: 'analytics',
      sources: [],
      perActivation: [
        { id: 'orders', source: { kind: 'table', schema: 'shop', name: 'orders' } },
        { id: 'vip', source: { kind: 'query', sql: 'select 1' } },
      ],
    });
    const lines = sql.split('\n').map((line) => line.trim());
    expect(lines[0]).toMatch(/^-- One role per activation, .*can see each other's queries in pg_stat_activity and cancel each other's reads\.$/);
    expect(lines.filter((line) => line.startsWith('CREATE ROLE'))).toEqual([
      `CREATE ROLE "trustpilot_reader_orders" LOGIN PASSWORD '<choose a password>' NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;`,
      `CREATE ROLE "trustpilot_reader_vip" LOGIN PASSWORD '<choose a password>' NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;`,
    ]);
    expect(lines.filter((line) => line.startsWith('GRANT SELECT ON "'))).toEqual(['GRANT SELECT ON "shop"."orders" TO "trustpilot_reader_orders";']);
    expect(lines).toContain('GRANT SELECT ON <schema>.<table> TO "trustpilot_reader_vip";');
  });

  it('leaves the single role as it was without the option', () => {
    const lines = readerRoleSql({ database: 'analytics', sources: [{ kind: 'table', schema: 'shop', name: 'orders' }] }).split('\n');
    expect(lines).toEqual([
      `  CREATE ROLE "trustpilot_segment_reader" LOGIN PASSWORD '<choose a password>' NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;`,
      '  GRANT CONNECT ON DATABASE "analytics" TO "trustpilot_segment_reader";',
      '  GRANT USAGE ON SCHEMA "shop" TO "trustpilot_segment_reader";',
      '  GRANT SELECT ON "shop"."orders" TO "trustpilot_segment_reader";',
      '  -- then give the worker: WAREHOUSE_DATABASE_URL=postgres://trustpilot_segment_reader:<password>@<host>:<port>/analytics',
    ]);
  });
});
