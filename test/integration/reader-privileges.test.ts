import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabaseIfMissing, databaseUrl } from '../../src/dev/embedded-postgres.ts';
import { CHECKED_EXTENSIONS, ReaderRoleError, assertReaderRole, inspectReaderRole, readerRoleProblems } from '../../src/source/postgres/reader-role.ts';
import { PostgresWarehouse as Warehouse } from '../../src/source/postgres/connection.ts';
import { createTestContext, type TestContext } from './harness.ts';

/**
 * Every server the check is proven on: role membership changed in Postgres 16 (grants carry
 * INHERIT and SET options and a grantor each), so the oldest supported major runs it too.
 */
const SERVERS = inject('boundaryServers');

const PASSWORD = 'reader-privileges';
const LIMITS = { statementTimeoutMs: 15_000 };

describe.each(SERVERS)('the warehouse role check on $label', (server) => {
  const suffix = randomBytes(3).toString('hex');
  const roles: string[] = [];
  const databases: string[] = [];
  let ctx: TestContext;
  let database: string;
  let version: number;

  async function sqlIn(where: string, ...statements: string[]): Promise<pg.QueryResult[]> {
    const client = new pg.Client({ connectionString: databaseUrl(server.adminUrl, where) });
    await client.connect();
    try {
      const results: pg.QueryResult[] = [];
      for (const statement of statements) results.push(await client.query(statement));
      return results;
    } finally {
      await client.end();
    }
  }

  /** A role of this file (roles are the whole server's): created here, dropped after the file. */
  async function createRole(name: string, attributes: string): Promise<string> {
    const role = `rp_${name}_${suffix}`;
    await sqlIn(database, `create role "${role}" ${attributes}`);
    roles.push(role);
    return role;
  }

  /** A login role that can read the test's segments in schema shop, and nothing else until a test adds more. */
  async function reader(name: string, attributes = 'noinherit'): Promise<string> {
    const role = await createRole(name, `login password '${PASSWORD}' ${attributes}`);
    await sqlIn(database, `grant usage on schema shop to "${role}"`, `grant select on all tables in schema shop to "${role}"`);
    return role;
  }

  function warehouseOf(role: string, where = database): Warehouse {
    return new Warehouse(databaseUrl(server.adminUrl, where, { user: role, password: PASSWORD }));
  }

  async function problemsOf(role: string, options: { appRole?: string; database?: string } = {}): Promise<string[]> {
    const report = await readerRoleProblems(warehouseOf(role, options.database), options.appRole === undefined ? {} : { appRole: options.appRole });
    return report.problems;
  }

  /** Another database of the same server, for what is granted per database (function ACLs, extensions). */
  async function otherDatabase(name: string): Promise<string> {
    const other = `${database}_${name}`;
    await createDatabaseIfMissing(server.adminUrl, other);
    databases.push(other);
    return other;
  }

  beforeAll(async () => {
    ctx = await createTestContext('reader-privileges', {}, server.adminUrl === inject('postgresAdminUrl') ? {} : { postgresAdminUrl: server.adminUrl });
    database = new URL(ctx.databaseUrl).pathname.slice(1);
    await sqlIn(database, 'create table if not exists shop.orders (order_id text primary key)');
    const [result] = await sqlIn(database, `select current_setting('server_version_num')::int as version`);
    version = (result?.rows[0] as { version: number }).version;
    if (server.expectedMajor !== undefined) expect(Math.floor(version / 10_000)).toBe(server.expectedMajor);
  });

  afterAll(async () => {
    if (roles.length > 0) {
      const list = roles.map((role) => `"${role}"`).join(', ');
      for (const where of [database, ...databases]) await sqlIn(where, `drop owned by ${list}`);
      // Members first: from Postgres 16 on, a role that granted a membership cannot go before it.
      for (const role of [...roles].reverse()) await sqlIn(database, `drop role if exists "${role}"`);
    }
    for (const other of databases) await sqlIn('postgres', `drop database if exists "${other}"`);
    await ctx?.close();
  });

  it('passes a plain reader, and the one the product is tested with, in the read itself too', async () => {
    const plain = await reader('plain');
    expect(await problemsOf(plain, { appRole: decodeURIComponent(new URL(ctx.databaseUrl).username) })).toEqual([]);
    expect((await readerRoleProblems(ctx.warehouse, { appRole: 'postgres' })).problems).toEqual([]);
    // The check every read makes before the segment's SQL: on a plain reader it lets the read run.
    await expect(warehouseOf(plain).read(LIMITS, () => Promise.resolve('read'))).resolves.toBe('read');
  });

  it('inspects in one statement on an open connection, inside a read-only transaction', async () => {
    const plain = await reader('open');
    const client = new pg.Client({ connectionString: databaseUrl(server.adminUrl, database, { user: plain, password: PASSWORD }) });
    await client.connect();
    try {
      await client.query('begin transaction isolation level repeatable read, read only');
      const started = performance.now();
      const report = await inspectReaderRole(client, { appRole: 'postgres' });
      const tookMs = performance.now() - started;
      await client.query('rollback');
      expect(report).toEqual({ role: plain, database, problems: [], findings: [] });
      // Generous for a shared machine; it is a few milliseconds on a quiet one.
      expect(tookMs).toBeLessThan(1_000);
    } finally {
      await client.end();
    }
  });

  it('refuses an INHERIT member of a superuser role, and the read refuses it too', async () => {
    const superuser = await createRole('su_inherit', 'superuser nologin');
    const member = await reader('inherit_member', 'inherit');
    await sqlIn(database, `grant "${superuser}" to "${member}"`);
    expect(await problemsOf(member)).toEqual([`role '${member}' is a member of '${superuser}', a superuser: it has its privileges and can SET ROLE to it`]);
    await expect(warehouseOf(member).read(LIMITS, () => Promise.resolve('read'))).rejects.toThrow(`is a member of '${superuser}', a superuser`);
  });

  it('refuses a NOINHERIT member of a superuser role (it can SET ROLE to it), and from 16 on one without SET either', async () => {
    const superuser = await createRole('su_noinherit', 'superuser nologin');
    const member = await reader('noinherit_member');
    await sqlIn(database, `grant "${superuser}" to "${member}"`);
    expect(await problemsOf(member)).toEqual([`role '${member}' is a member of '${superuser}', a superuser: it can SET ROLE to it`]);
    if (version >= 160_000) {
      const bare = await reader('bare_member', 'inherit');
      await sqlIn(database, `grant "${superuser}" to "${bare}" with inherit false, set false`);
      expect(await problemsOf(bare)).toEqual([`role '${bare}' is a member of '${superuser}', a superuser: a membership with neither INHERIT nor SET today, refused all the same`]);
    }
  });

  it("refuses a NOINHERIT member of a role that can use the app's schema", async () => {
    const appReaders = await createRole('app_readers', 'nologin');
    await sqlIn(database, `grant usage on schema app to "${appReaders}"`);
    const member = await reader('app_member');
    await sqlIn(database, `grant "${appReaders}" to "${member}"`);
    expect(await problemsOf(member)).toEqual([`role '${member}' is a member of '${appReaders}', a role that can use the app's schema 'app' (ledger, configuration): it can SET ROLE to it`]);
  });

  it('refuses a member of pg_read_server_files', async () => {
    const member = await reader('server_files', 'inherit');
    await sqlIn(database, `grant pg_read_server_files to "${member}"`);
    expect(await problemsOf(member)).toEqual([
      `role '${member}' is a member of 'pg_read_server_files', a built-in role that reads any file the server can: it has its privileges and can SET ROLE to it`,
    ]);
  });

  it('refuses a member of a role that is a member of pg_signal_backend, and shows the path', async () => {
    const middle = await createRole('signallers', 'nologin');
    await sqlIn(database, `grant pg_signal_backend to "${middle}"`);
    const member = await reader('two_hops', 'inherit');
    await sqlIn(database, `grant "${middle}" to "${member}"`);
    const report = await readerRoleProblems(warehouseOf(member));
    expect(report.findings).toEqual([
      {
        problem: `role '${member}' is a member of 'pg_signal_backend' (${member} → ${middle} → pg_signal_backend), a built-in role that cancels and terminates other sessions: it has its privileges and can SET ROLE to it`,
        fix: [`REVOKE "${middle}" FROM "${member}";`],
      },
    ]);
  });

  it('refuses EXECUTE on pg_read_file granted to PUBLIC in its database, and passes again once revoked', async () => {
    const files = await otherDatabase('fn');
    const plain = await reader('public_fn');
    await sqlIn(files, 'grant execute on function pg_read_file(text) to public');
    expect(await problemsOf(plain, { database: files })).toEqual([`role '${plain}' can execute pg_read_file(text) (granted to PUBLIC): it reads the server's files`]);
    // Function privileges are the database's own: the test's database is untouched.
    expect(await problemsOf(plain)).toEqual([]);
    await sqlIn(files, 'revoke execute on function pg_read_file(text) from public');
    expect(await problemsOf(plain, { database: files })).toEqual([]);
  });

  it("refuses the app's own role, by name, on a database without the app's schema, and a member of it", async () => {
    const elsewhere = await otherDatabase('app_role');
    const appRole = await createRole('app', `login password '${PASSWORD}' nosuperuser`);
    expect(await problemsOf(appRole, { database: elsewhere })).toEqual([]);
    expect(await problemsOf(appRole, { database: elsewhere, appRole })).toEqual([
      `role '${appRole}' is the app's own database role (DATABASE_URL's): segments must be read by a role of their own`,
    ]);
    const member = await reader('app_member_of');
    await sqlIn(database, `grant "${appRole}" to "${member}"`);
    expect(await problemsOf(member, { database: elsewhere, appRole })).toEqual([
      `role '${member}' is a member of '${appRole}', the app's own database role: it can SET ROLE to it`,
    ]);
    // The tests' app role is a superuser: refused for that as well.
    const admin = decodeURIComponent(new URL(ctx.databaseUrl).username);
    const own = await readerRoleProblems(new Warehouse(ctx.databaseUrl), { appRole: admin });
    expect(own.problems).toContain(`role '${admin}' is a superuser: it can read server files, other databases' data and password hashes`);
  });

  it('refuses a role with CREATEROLE', async () => {
    const creator = await reader('creator', 'createrole');
    const report = await readerRoleProblems(warehouseOf(creator));
    expect(report.findings).toEqual([
      { problem: `role '${creator}' has CREATEROLE: it can create roles and grant itself their privileges`, fix: [`ALTER ROLE "${creator}" NOCREATEROLE;`] },
    ]);
  });

  it('refuses a role that can execute dblink where the extension is installed', async () => {
    const [available] = await sqlIn(database, `select count(*)::int as n from pg_available_extensions where name = 'dblink'`);
    if ((available?.rows[0] as { n: number }).n === 0) {
      // Not on this server's binaries: the check still looks for it where it is installed.
      expect(CHECKED_EXTENSIONS).toContain('dblink');
      return;
    }
    const linked = await otherDatabase('dblink');
    await sqlIn(linked, 'create extension dblink');
    const plain = await reader('dblink');
    const report = await readerRoleProblems(warehouseOf(plain, linked));
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]).toMatch(
      new RegExp(`^role '${plain}' can execute the functions of extension dblink \\(\\d+ of them: dblink, dblink_connect, dblink_exec, .*; granted to PUBLIC\\): they open connections of their own, outside the read-only transaction$`),
    );
    await sqlIn(linked, ...(report.findings[0]?.fix ?? []).filter((line) => !line.startsWith('--')));
    expect(await problemsOf(plain, { database: linked })).toEqual([]);
  });

  it('lists each problem with the SQL that fixes it, before the SQL of a proper role; that SQL fixes them', async () => {
    const grants = await otherDatabase('fixes');
    const superuser = await createRole('su_fix', 'superuser nologin');
    const granter = await createRole('granter', 'createrole nologin');
    const member = await createRole('fix_all', `login password '${PASSWORD}' noinherit createrole`);
    await sqlIn(
      grants,
      `grant "${superuser}" to "${member}"`,
      `grant pg_read_server_files to "${member}"`,
      'grant execute on function pg_stat_file(text) to public',
      // From 16 on, a membership granted by another role than a superuser is revoked naming it.
      `set role "${granter}"`,
      `create role "rp_granted_${suffix}" nologin`,
      `grant "rp_granted_${suffix}" to "${member}"`,
      'reset role',
      `grant pg_signal_backend to "rp_granted_${suffix}"`,
    );
    roles.push(`rp_granted_${suffix}`);
    const warehouse = warehouseOf(member, grants);
    const report = await readerRoleProblems(warehouse);
    expect(report.problems).toHaveLength(5);
    const error = await assertReaderRole(warehouse, [{ kind: 'table', schema: 'shop', name: 'orders' }]).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(ReaderRoleError);
    const message = (error as ReaderRoleError).message;
    const proper = message.indexOf('CREATE ROLE');
    expect(proper).toBeGreaterThan(0);
    for (const finding of report.findings) {
      expect(message).toContain(finding.problem);
      expect(finding.fix.length).toBeGreaterThan(0);
      for (const statement of finding.fix) {
        expect(message).toContain(statement);
        expect(message.indexOf(statement)).toBeLessThan(proper);
      }
    }
    expect(message).toContain(`ALTER ROLE "${member}" NOCREATEROLE;`);
    expect(message).toContain(`REVOKE "${superuser}" FROM "${member}";`);
    expect(message).toContain('REVOKE EXECUTE ON FUNCTION "pg_catalog"."pg_stat_file"(text) FROM PUBLIC;');
    expect(message).toContain(version >= 160_000 ? `REVOKE "rp_granted_${suffix}" FROM "${member}" GRANTED BY "${granter}";` : `REVOKE "rp_granted_${suffix}" FROM "${member}";`);
    expect(message).toContain('GRANT SELECT ON "shop"."orders" TO "trustpilot_segment_reader";');
    expect((error as ReaderRoleError).summary).not.toContain('\n');

    await sqlIn(grants, ...(error as ReaderRoleError).fixSql.filter((line) => !line.startsWith('--')));
    expect(await problemsOf(member, { database: grants })).toEqual([]);
  });
});
