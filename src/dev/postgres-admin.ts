import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';

/** What an administrator of a Postgres server does for the app: databases, the reader role, and its grants. */

/** The URL of another database on the same server, as the same user. */
export function databaseUrl(serverUrl: string, database: string, credentials?: { user: string; password: string }): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  if (credentials) {
    url.username = encodeURIComponent(credentials.user);
    url.password = encodeURIComponent(credentials.password);
  }
  return url.toString();
}

async function withAdmin<T>(url: string, work: (db: Kysely<{ pg_database: { datname: string }; pg_roles: { rolname: string } }>) => Promise<T>): Promise<T> {
  const db = new Kysely<{ pg_database: { datname: string }; pg_roles: { rolname: string } }>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }),
  });
  try {
    return await work(db);
  } finally {
    await db.destroy();
  }
}

export async function createDatabaseIfMissing(adminUrl: string, database: string): Promise<void> {
  await withAdmin(adminUrl, async (admin) => {
    const exists = await admin.selectFrom('pg_database').select('datname').where('datname', '=', database).executeTakeFirst();
    if (!exists) await sql`create database ${sql.id(database)}`.execute(admin);
  });
}

/**
 * Creates a login role that is nothing but a reader: no superuser, no memberships. An existing
 * role of that name is left as it is unless `resetPassword` (a server this process owns).
 */
export async function ensureReaderRole(adminUrl: string, role: string, password: string, options: { resetPassword?: boolean } = { resetPassword: true }): Promise<void> {
  await withAdmin(adminUrl, async (admin) => {
    const exists = await admin.selectFrom('pg_roles').select('rolname').where('rolname', '=', role).executeTakeFirst();
    if (exists && !options.resetPassword) return;
    const verb = exists ? sql`alter role` : sql`create role`;
    await sql`${verb} ${sql.id(role)} login nosuperuser nocreatedb nocreaterole noinherit password ${sql.lit(password)}`.execute(admin);
  });
}

/**
 * Lets the reader role read a schema of a database: what is there now, and what its owner creates
 * there later. This is what an operator grants on a real warehouse (see `cli reader-sql`).
 */
export async function grantSchemaToReader(databaseAdminUrl: string, schema: string, role: string): Promise<void> {
  await withAdmin(databaseAdminUrl, async (admin) => {
    await sql`create schema if not exists ${sql.id(schema)}`.execute(admin);
    await sql`grant usage on schema ${sql.id(schema)} to ${sql.id(role)}`.execute(admin);
    await sql`grant select on all tables in schema ${sql.id(schema)} to ${sql.id(role)}`.execute(admin);
    await sql`alter default privileges in schema ${sql.id(schema)} grant select on tables to ${sql.id(role)}`.execute(admin);
  });
}
