import { describe, expect, it } from 'vitest';
import type { ActivationConfigInput } from '../../src/domain/index.ts';
import { checkAgainstSource } from '../../src/source/check.ts';
import type { PostgresWarehouse as Warehouse, Statement, WarehouseSession } from '../../src/source/postgres/connection.ts';
import { PostgresSource } from '../../src/source/postgres/index.ts';
import { describeAlternatives } from '../../src/source/postgres/suggest.ts';

/** The Postgres engine over a scripted connection. */
function engineOver(connection: Warehouse): PostgresSource {
  return Object.assign(Object.create(PostgresSource.prototype) as PostgresSource, { name: 'default', connection });
}
import { activationInput, destinationInput, validConfigs } from '../fixtures.ts';

/** An error as node-postgres builds it from the server's ErrorResponse. */
function serverError(code: string, message: string, origin: { file: string; routine: string }): Error {
  return Object.assign(new Error(message), { name: 'error', severity: 'ERROR', code, ...origin });
}

function configured(source: ActivationConfigInput['source']) {
  return validConfigs(destinationInput(), activationInput({ source }));
}

/**
 * A warehouse whose segment read fails with `failure`, and whose catalog holds `relations` and
 * `schemas`; it records the statements it was sent.
 */
function fakeWarehouse(failure: Error, catalog: { relations?: { schema: string; name: string; readable: boolean }[]; schemas?: string[] } = {}, role: string | undefined = 'segment_reader') {
  const statements: Statement[] = [];
  let reads = 0;
  const session = {
    query: (statement: Statement) => {
      statements.push(statement);
      return Promise.resolve({ rows: statement.sql.includes('pg_class') ? (catalog.relations ?? []) : (catalog.schemas ?? []).map((name) => ({ name })) });
    },
  } as unknown as WarehouseSession;
  const warehouse = {
    role,
    read: async <T>(_limits: unknown, work: (session: WarehouseSession) => Promise<T>): Promise<T> => {
      reads += 1;
      if (reads === 1) throw failure;
      return await work(session);
    },
  } as unknown as Warehouse;
  return { warehouse: engineOver(warehouse), statements, reads: () => reads };
}

describe('a source the reader may not read', () => {
  const denied = serverError('42501', 'permission denied for schema locked', { file: 'aclchk.c', routine: 'aclcheck_error' });

  it('names the reader role and prints the exact grants for that table, and the reader-sql command for the file', async () => {
    const { activation, resolved } = configured({ kind: 'table', schema: 'locked', name: 'orders' });
    const problems = await checkAgainstSource(fakeWarehouse(denied).warehouse, activation, resolved, { file: 'config/my orders.json' });
    expect(problems).toEqual([
      {
        path: 'source',
        message:
          'the source cannot be read: the reader role "segment_reader" may not read the segment: permission denied for schema locked (SQLSTATE 42501 insufficient_privilege); ' +
          'as an administrator of the warehouse, run: GRANT USAGE ON SCHEMA "locked" TO "segment_reader"; GRANT SELECT ON "locked"."orders" TO "segment_reader"; ' +
          "(`npm run cli -- reader-sql 'config/my orders.json' --role segment_reader` prints every grant)",
      },
    ]);
  });

  it('names the role the warehouse reported when its URL names none', async () => {
    const { activation, resolved } = configured({ kind: 'view', schema: 'locked', name: 'orders' });
    const [problem] = await checkAgainstSource(fakeWarehouse(denied, {}, undefined).warehouse, activation, resolved, { readerRole: 'from_catalog', file: 'a.json' });
    expect(problem?.message).toContain('GRANT SELECT ON "locked"."orders" TO "from_catalog";');
    expect(problem?.message).toContain('`npm run cli -- reader-sql a.json --role from_catalog`');
  });

  it("points a query's missing grant to reader-sql for its file", async () => {
    const { activation, resolved } = configured({ kind: 'query', sql: 'select * from locked.orders' });
    const [problem] = await checkAgainstSource(fakeWarehouse(denied).warehouse, activation, resolved, { file: 'a.json' });
    expect(problem?.message).toMatch(/the reader role "segment_reader" may not read the segment: .*; grant the reader role "segment_reader" USAGE on each schema and SELECT on each table the query reads \(`npm run cli -- reader-sql a\.json --role segment_reader` prints the statements\)$/);
  });
});

describe('a source table, view or schema that does not exist', () => {
  const missingTable = serverError('42P01', 'relation "shop.ordrs" does not exist', { file: 'parse_relation.c', routine: 'parserOpenTable' });
  const missingSchema = serverError('3F000', 'schema "shpo" does not exist', { file: 'namespace.c', routine: 'LookupExplicitNamespace' });

  it('suggests the closest table, read from the catalog only, with the names as parameters', async () => {
    const { activation, resolved } = configured({ kind: 'table', schema: 'shop', name: 'ordrs' });
    const fake = fakeWarehouse(missingTable, { relations: [{ schema: 'shop', name: 'orders', readable: true }, { schema: 'shop', name: 'customers', readable: true }], schemas: ['public', 'shop'] });
    const [problem] = await checkAgainstSource(fake.warehouse, activation, resolved);
    expect(problem?.message).toBe(`the source cannot be read: relation "shop.ordrs" does not exist (SQLSTATE 42P01 undefined_table); did you mean 'orders'?`);
    expect(fake.statements.map((statement) => statement.parameters)).toEqual([['shop', 'ordrs'], []]);
    for (const statement of fake.statements) {
      expect(statement.sql).toMatch(/from pg_catalog\.pg_(class|namespace)/);
      expect(statement.sql).not.toMatch(/shop|ordrs/);
    }
  });

  it('suggests the closest schema the reader can use', async () => {
    const { activation, resolved } = configured({ kind: 'table', schema: 'shpo', name: 'orders' });
    const [problem] = await checkAgainstSource(fakeWarehouse(missingSchema, { schemas: ['public', 'shop'] }).warehouse, activation, resolved);
    expect(problem?.message).toMatch(/; did you mean schema 'shop'\?$/);
  });

  it('keeps the problem as it is when the catalog cannot be read', async () => {
    const { activation, resolved } = configured({ kind: 'table', schema: 'shop', name: 'ordrs' });
    const warehouse = {
      role: 'r',
      read: () => Promise.reject(missingTable),
    } as unknown as Warehouse;
    const [problem] = await checkAgainstSource(engineOver(warehouse), activation, resolved);
    expect(problem?.message).toBe('the source cannot be read: relation "shop.ordrs" does not exist (SQLSTATE 42P01 undefined_table)');
  });
});

describe('describeAlternatives', () => {
  const relations = [
    { schema: 'shop', name: 'orders', readable: true },
    { schema: 'shop', name: 'returns', readable: false },
    { schema: 'archive', name: 'invoices', readable: true },
  ];

  it('says when the closest table is not granted yet', () => {
    expect(describeAlternatives({ schema: 'shop', name: 'returnz' }, 'relation', relations, [])).toBe("did you mean 'returns'? (the reader role may not SELECT it yet)");
  });

  it('names the schema a table of that name is in', () => {
    expect(describeAlternatives({ schema: 'shop', name: 'invoices' }, 'relation', relations, ['archive', 'shop'])).toBe("'invoices' is in schema 'archive': set source.schema");
  });

  it('lists what the reader can read when nothing is close, and the schemas it can use', () => {
    expect(describeAlternatives({ schema: 'shop', name: 'customer_segments' }, 'relation', relations, [])).toBe("tables and views in schema 'shop' the reader role can read: orders");
    expect(describeAlternatives({ schema: 'crm', name: 'leads' }, 'schema', [], ['public', 'shop'])).toBe('schemas the reader role can use: public, shop');
    expect(describeAlternatives({ schema: 'empty', name: 'leads' }, 'relation', [], ['empty', 'shop'])).toBe("the reader role can read no table or view in schema 'empty'");
    // A SELECT from a schema that is not there fails as a missing relation.
    expect(describeAlternatives({ schema: 'shpo', name: 'orders' }, 'relation', relations, ['archive', 'shop'])).toBe("did you mean schema 'shop'?");
  });
});
