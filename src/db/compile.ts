import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, type CompiledQuery, type RawBuilder } from 'kysely';

// Compiles app-database SQL for connections kysely does not drive (a scan session's COPY and temp tables).
const compiler = new Kysely<Record<string, never>>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});

export function compile<T>(query: RawBuilder<T>): CompiledQuery<T> {
  return query.compile(compiler);
}

/** SQL with every value inlined as a literal; COPY cannot take parameters. */
export function compileWithoutParameters(query: RawBuilder<unknown>): string {
  const compiled = compile(query);
  if (compiled.parameters.length > 0) throw new Error('a COPY statement must not carry parameters; inline its values with sql.lit');
  return compiled.sql;
}
