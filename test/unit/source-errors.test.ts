import { describe, expect, it } from 'vitest';
import { SourceError, configTextOf, errorContextFor, type SourceErrorContext } from '../../src/source/errors.ts';
import { describePostgresError as toSourceError } from '../../src/source/postgres/errors.ts';
import { activationConfigSchema } from '../../src/domain/index.ts';
import { conditionName } from '../../src/domain/sqlstate.ts';
import { SQLSTATE_CONDITION_NAMES } from '../../src/domain/sqlstate-names.ts';

const context: SourceErrorContext = { subject: "activation 'orders'", statementTimeout: '5m' };
/** An activation whose query names the objects the tests' messages name. */
const configured: SourceErrorContext = { ...context, configText: 'select order_id, emial from shop.ordrs join orders using (order_id)' };

/** An error as node-postgres builds it from the server's ErrorResponse. */
function serverError(code: string, message: string, origin: { file?: string; routine?: string } = {}): Error {
  return Object.assign(new Error(message), { name: 'error', severity: 'ERROR', code, line: '1234', ...origin });
}

/** An error of the Node runtime, e.g. a socket that could not connect. */
function nodeError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code, errno: -1, syscall: 'connect' });
}

const PERSONAL_VALUE = 'Zoë Ångström';

describe('toSourceError: configuration problems the server describes', () => {
  it('is permanent for an undefined table (42P01) and names the relation', () => {
    const error = toSourceError(serverError('42P01', 'relation "shop.ordrs" does not exist', { file: 'parse_relation.c', routine: 'parserOpenTable' }), configured);
    expect(error).toBeInstanceOf(SourceError);
    expect(error.kind).toBe('permanent');
    expect(error.code).toBe('42P01');
    expect(error.message).toContain('relation "shop.ordrs" does not exist');
    expect(error.message).toContain('SQLSTATE 42P01 undefined_table');
    expect(error.message).toContain("activation 'orders'");
  });

  it('is permanent for a missing grant (42501) and advises granting the reader role SELECT', () => {
    const error = toSourceError(serverError('42501', 'permission denied for table orders', { file: 'aclchk.c', routine: 'aclcheck_error' }), configured);
    expect(error.kind).toBe('permanent');
    expect(error.message).toContain('the reader role may not read the segment');
    expect(error.message).toContain('permission denied for table orders');
    expect(error.message).toContain('GRANT it SELECT on the source');
    expect(error.message).toContain('cli reader-sql');
  });

  it('is permanent for an undefined column (42703) and shows the server text', () => {
    const error = toSourceError(serverError('42703', 'column "emial" does not exist', { file: 'parse_relation.c', routine: 'errorMissingColumn' }), configured);
    expect(error.kind).toBe('permanent');
    expect(error.message).toContain('column "emial" does not exist');
  });
});

describe('toSourceError: errors whose text can quote row values', () => {
  it('is permanent for bad data (22P02), with the SQLSTATE but not the value', () => {
    const error = toSourceError(
      serverError('22P02', `invalid input syntax for type integer: "${PERSONAL_VALUE}"`, { file: 'numutils.c', routine: 'pg_strtoint32_safe' }),
      context,
    );
    expect(error.kind).toBe('permanent');
    expect(error.code).toBe('22P02');
    expect(error.message).toContain('SQLSTATE 22P02');
    expect(error.message).toContain('a value in the segment does not fit the query');
    expect(error.message).not.toContain(PERSONAL_VALUE);
    expect(error.message).not.toContain('invalid input syntax');
  });

  it('is permanent for a PL/pgSQL RAISE (P0001), without its message', () => {
    const error = toSourceError(
      serverError('P0001', `customer ${PERSONAL_VALUE} is blocked`, { file: 'pl_exec.c', routine: 'exec_stmt_raise' }),
      context,
    );
    expect(error.kind).toBe('permanent');
    expect(error.message).toContain('SQLSTATE P0001');
    expect(error.message).toContain("the segment's SQL raised an exception");
    expect(error.message).not.toContain(PERSONAL_VALUE);
    expect(error.message).not.toContain('blocked');
  });

  it('does not show a RAISE that borrows the insufficient_privilege code (42501)', () => {
    const error = toSourceError(
      serverError('42501', `permission denied for ${PERSONAL_VALUE}`, { file: 'pl_exec.c' }),
      context,
    );
    expect(error.kind).toBe('permanent');
    expect(error.message).toContain('SQLSTATE 42501');
    expect(error.message).not.toContain(PERSONAL_VALUE);
  });

  it('does not show a RAISE that borrows a descriptive code (42P01)', () => {
    const error = toSourceError(serverError('42P01', `no table for ${PERSONAL_VALUE}`, { file: 'pl_exec.c', routine: 'exec_stmt_raise' }), context);
    expect(error.message).not.toContain(PERSONAL_VALUE);
  });

  it('does not show an error from another procedural language (file pl*)', () => {
    const error = toSourceError(serverError('42501', `denied for ${PERSONAL_VALUE}`, { file: 'plpy_elog.c', routine: 'PLy_elog_impl' }), context);
    expect(error.message).not.toContain(PERSONAL_VALUE);
  });

  it('does not show descriptive-class text that did not come from the server (no file)', () => {
    const error = toSourceError(serverError('42P01', `relation for ${PERSONAL_VALUE}`), context);
    expect(error.kind).toBe('permanent');
    expect(error.message).not.toContain(PERSONAL_VALUE);
  });

  it('does not show a unique violation (23505), whose text can carry a key', () => {
    const error = toSourceError(
      serverError('23505', `duplicate key value violates unique constraint "x" (${PERSONAL_VALUE})`, { file: 'nbtinsert.c', routine: '_bt_check_unique' }),
      context,
    );
    expect(error.kind).toBe('permanent');
    expect(error.message).not.toContain(PERSONAL_VALUE);
  });
});

describe('toSourceError: timeouts and credentials', () => {
  it('is permanent for a statement timeout (57014) and names the statementTimeout option and its value', () => {
    const error = toSourceError(
      serverError('57014', 'canceling statement due to statement timeout', { file: 'postgres.c', routine: 'ProcessInterrupts' }),
      context,
    );
    expect(error.kind).toBe('permanent');
    expect(error.message).toContain('statementTimeout');
    expect(error.message).toContain('statement timeout of 5m');
    expect(error.message).toContain('SQLSTATE 57014 query_canceled');
  });

  it('advises raising the activation\'s own statementTimeout option, the one the configuration has', () => {
    const error = toSourceError(serverError('57014', 'canceling statement due to statement timeout', { file: 'postgres.c' }), context);
    const activation = {
      id: 'orders',
      destinationId: 'acme',
      source: { kind: 'table', name: 'orders' },
      primaryKey: 'order_id',
      mapping: { consumerName: 'name', consumerEmail: 'email', referenceNumber: 'order_id' },
      schedule: { every: '5m' },
    };
    // The option is a top-level key of the activation; under `source` it is refused as unknown.
    expect(activationConfigSchema.safeParse({ ...activation, statementTimeout: '10m' }).success).toBe(true);
    expect(activationConfigSchema.safeParse({ ...activation, source: { ...activation.source, statementTimeout: '10m' } }).success).toBe(false);
    expect(error.message).not.toContain('source.statementTimeout');
  });

  it('leaves out the value when the statement timeout is not known', () => {
    const error = toSourceError(serverError('57014', 'canceling statement due to statement timeout', { file: 'postgres.c' }), { subject: 'the source' });
    expect(error.message).toContain('longer than its statement timeout (');
  });

  it('is permanent for a wrong password (28P01) and names WAREHOUSE_DATABASE_URL, not the server text', () => {
    const error = toSourceError(
      serverError('28P01', 'password authentication failed for user "reader"', { file: 'auth.c', routine: 'auth_failed' }),
      context,
    );
    expect(error.kind).toBe('permanent');
    expect(error.message).toContain('WAREHOUSE_DATABASE_URL');
    expect(error.message).toContain('SQLSTATE 28P01 invalid_password');
    expect(error.message).not.toContain('reader"');
  });

  it('names the configured URL variable instead of the default', () => {
    const error = toSourceError(serverError('28000', 'no pg_hba.conf entry', { file: 'auth.c' }), { subject: 'the source', urlVariable: 'SHOP_WAREHOUSE_URL' });
    expect(error.message).toContain('SHOP_WAREHOUSE_URL');
    expect(error.message).not.toContain('WAREHOUSE_DATABASE_URL');
  });
});

describe('toSourceError: the warehouse unreachable or restarting', () => {
  it('is transient for a connection failure (08006)', () => {
    const error = toSourceError(serverError('08006', 'connection failure', { file: 'pqcomm.c', routine: 'pq_getbyte' }), context);
    expect(error.kind).toBe('transient');
    expect(error.code).toBe('08006');
  });

  it('is transient for an administrator shutdown (57P01)', () => {
    const error = toSourceError(
      serverError('57P01', 'terminating connection due to administrator command', { file: 'postgres.c', routine: 'ProcessInterrupts' }),
      context,
    );
    expect(error.kind).toBe('transient');
    expect(error.message).toContain('SQLSTATE 57P01');
  });

  it('is transient for a refused connection (ECONNREFUSED) and names the URL variable', () => {
    const error = toSourceError(nodeError('ECONNREFUSED', 'connect ECONNREFUSED 10.1.2.3:5432'), context);
    expect(error.kind).toBe('transient');
    expect(error.code).toBeUndefined();
    expect(error.message).toContain('cannot reach the warehouse (ECONNREFUSED)');
    expect(error.message).toContain('WAREHOUSE_DATABASE_URL');
  });

  it.each(['ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE'])('is transient for %s and names the URL variable, not a SQLSTATE', (code) => {
    const error = toSourceError(nodeError(code, `socket ${code}`), context);
    expect(error.kind).toBe('transient');
    expect(error.code).toBeUndefined();
    expect(error.message).toContain(`cannot reach the warehouse (${code})`);
    expect(error.message).toContain('WAREHOUSE_DATABASE_URL');
  });

  it('is transient for a connection that node-postgres reports as terminated', () => {
    const error = toSourceError(new Error('Connection terminated unexpectedly'), context);
    expect(error.kind).toBe('transient');
    expect(error.message).toContain('WAREHOUSE_DATABASE_URL');
  });
});

describe('toSourceError: anything else', () => {
  it('is transient for an unknown error and shows only its type', () => {
    const error = toSourceError(new TypeError(`cannot read ${PERSONAL_VALUE}`), context);
    expect(error.kind).toBe('transient');
    expect(error.message).toBe("activation 'orders': the segment could not be read (unexpected TypeError)");
  });

  it('is transient for a thrown value that is not an Error', () => {
    const error = toSourceError(PERSONAL_VALUE, context);
    expect(error.kind).toBe('transient');
    expect(error.message).toContain('unexpected string');
    expect(error.message).not.toContain(PERSONAL_VALUE);
  });

  it('returns a SourceError unchanged', () => {
    const original = new SourceError('already classified', 'permanent', '42P01');
    expect(toSourceError(original, context)).toBe(original);
  });
});

describe('toSourceError: server text only in known forms naming configured names', () => {
  /** A marketer's query, as an activation configures it, with the mapping of its columns. */
  const activation = activationConfigSchema.parse({
    id: 'orders',
    destinationId: 'acme',
    source: {
      kind: 'query',
      sql: `select o.order_id, o.customer_email, lower(o.customer_name) as customer_name, nextval('shop.invitations') as n
              from shop.orders o join app.ledger l on true -- only zoe's orders
             where o.status = 'shipped' and pg_read_file('x') is not null`,
    },
    primaryKey: 'order_id',
    mapping: { consumerName: 'customer_name', consumerEmail: 'customer_email', referenceNumber: 'order_id', locale: 'Mixed Case' },
    schedule: { every: '1h' },
  });
  const queried = errorContextFor(activation, { subject: "activation 'orders'" });

  // Real messages of Postgres 14 and 18 for queries that put a row's value where a name goes.
  it.each([
    ['42704', 'unrecognized configuration parameter "bob@example.com"', 'guc.c', 'bob@example.com'], // current_setting(customer_email)
    ['3F000', 'schema "bob@example" does not exist', 'namespace.c', 'bob@example'], // customer_email::regclass
    ['42P01', 'relation "bob@example.com" does not exist', 'namespace.c', 'bob@example.com'],
    ['42601', 'syntax error at or near "Ångström"', 'scan.l', 'Ångström'], // customer_name::regproc
    ['42703', 'column "zoë" does not exist', 'parse_relation.c', 'zoë'], // query_to_xml('select ' || customer_name, ...)
    ['42704', 'type "zoë" does not exist', 'parse_type.c', 'zoë'], // customer_name::regtype
    ['3F000', 'schema "zoë" does not exist', 'regproc.c', 'zoë'], // customer_name::regnamespace
    ['42883', 'function "zoë" does not exist', 'regproc.c', 'zoë'],
    ['42883', 'function bob(integer) does not exist', 'regproc.c', 'bob('], // customer_name::regprocedure
    ['42501', 'permission denied for large object 12345', 'aclchk.c', '12345'], // lo_get(customer_id)
    ['42P01', 'relation "12345" does not exist', 'namespace.c', '12345'],
    ['42501', 'permission denied to set parameter "bob@example.com"', 'guc.c', 'bob@example.com'],
    ['25006', 'cannot execute Bob Smith in a read-only transaction', 'utility.c', 'Bob Smith'],
    // A value that equals a keyword of the query: keywords are not names.
    ['42601', 'syntax error at or near "select"', 'scan.l', 'select'],
    ['42P01', 'relation "from" does not exist', 'namespace.c', 'from'],
    ['42P01', 'relation "where" does not exist', 'namespace.c', 'where'],
    // A value that equals a string constant or a word of a comment of the query: those name nothing.
    ['42P01', 'relation "shipped" does not exist', 'namespace.c', 'shipped'],
    ['42P01', 'relation "zoe" does not exist', 'namespace.c', 'zoe'],
    ['42P01', 'relation "shop.invitations" does not exist', 'namespace.c', 'invitations'],
    // Configured names around a value, or a value split by dots.
    ['42P01', 'relation "shop.bob" does not exist', 'namespace.c', 'bob'],
    ['42703', 'column o.bob does not exist', 'parse_relation.c', 'bob'],
    ['0A000', 'cross-database references are not implemented: "bob.example.com"', 'namespace.c', 'bob'],
    // Anything after a matching form, on another line, or around it.
    ['42P01', 'relation "orders" does not exist\nbob@example.com', 'namespace.c', 'bob@example.com'],
    ['42P01', 'bob@example.com: relation "orders" does not exist', 'namespace.c', 'bob@example.com'],
    ['42P01', 'relation "orders" does not exist: bob@example.com', 'namespace.c', 'bob@example.com'],
  ])('withholds %s %j: the value %j is not a configured name', (code, message, file, value) => {
    const error = toSourceError(serverError(code, message, { file }), queried);
    expect(error.message).not.toContain(value);
    expect(error.message).not.toContain(message.split('\n')[0]);
    expect(error.message).toContain(`SQLSTATE ${code} ${conditionName(code) ?? ''}`);
    expect(error.message).toContain("the server's message is not shown");
  });

  it.each([
    ['42P01', 'relation "shop.orders" does not exist', 'parse_relation.c'],
    ['42P01', 'missing FROM-clause entry for table "o"', 'parse_relation.c'],
    ['42703', 'column "customer_email" does not exist', 'parse_relation.c'],
    ['42703', 'column o.status does not exist', 'parse_relation.c'],
    ['42703', 'column src.Mixed Case does not exist', 'parse_relation.c'], // a mapped column the query lacks
    ['42702', 'column reference "order_id" is ambiguous', 'parse_relation.c'],
    ['3F000', 'schema "shop" does not exist', 'namespace.c'],
    ['25006', 'cannot execute nextval() in a read-only transaction', 'utility.c'],
    ['25006', 'cannot execute SELECT FOR UPDATE in a read-only transaction', 'utility.c'],
    ['25006', 'cannot execute CREATE TABLE AS in a read-only transaction', 'utility.c'],
    ['42883', 'function lower(integer) does not exist', 'parse_func.c'],
    ['42883', 'function shop.orders(integer, unknown, timestamp with time zone, text[], "char") does not exist', 'parse_func.c'],
    ['42883', 'function lower(customer_name => character varying) does not exist', 'parse_func.c'],
    ['42883', 'operator does not exist: text = integer', 'parse_oper.c'],
    ['42883', 'operator does not exist: timestamp with time zone - text', 'parse_oper.c'],
    ['42883', 'operator does not exist: - text', 'parse_oper.c'],
    ['42803', 'column "o.customer_email" must appear in the GROUP BY clause or be used in an aggregate function', 'parse_agg.c'],
    ['42804', 'argument of WHERE must be type boolean, not type integer', 'parse_coerce.c'],
    ['42804', 'CASE types text and integer cannot be matched', 'parse_coerce.c'],
    ['42846', 'cannot cast type integer to point', 'parse_expr.c'],
    ['0A000', 'cross-database references are not implemented: "app.shop.orders"', 'namespace.c'],
    ['42601', 'syntax error at or near "customer_name"', 'scan.l'],
    ['42601', 'syntax error at end of input', 'scan.l'],
    ['42P10', 'for SELECT DISTINCT, ORDER BY expressions must appear in select list', 'parse_clause.c'],
    ['55P03', 'canceling statement due to lock timeout', 'postgres.c'],
    ['40P01', 'deadlock detected', 'deadlock.c'],
  ])('shows %s %j: every name in it is configured', (code, message, file) => {
    const error = toSourceError(serverError(code, message, { file }), queried);
    expect(error.message).toBe(`activation 'orders': ${message} (SQLSTATE ${code} ${conditionName(code) ?? ''})`);
  });

  it('compares names case-insensitively and reads quoted parts', () => {
    const quoted = { ...context, configText: 'select * from "Shop"."Orders"' };
    for (const message of ['relation "Shop.Orders" does not exist', 'relation "shop.orders" does not exist']) {
      expect(toSourceError(serverError('42P01', message, { file: 'namespace.c' }), quoted).message).toContain(message);
    }
    const signature = 'function "Shop"."Orders"(integer) does not exist';
    expect(toSourceError(serverError('42883', signature, { file: 'parse_func.c' }), quoted).message).toContain(signature);
  });

  it('withholds a name the configuration does not use, and every name when there is no configuration', () => {
    const missing = toSourceError(serverError('42P01', 'relation "shop.customers" does not exist', { file: 'namespace.c' }), queried);
    expect(missing.message).not.toContain('customers');
    expect(missing.message).toContain('SQLSTATE 42P01 undefined_table');
    const unconfigured = toSourceError(serverError('42P01', 'relation "shop.orders" does not exist', { file: 'namespace.c' }), context);
    expect(unconfigured.message).not.toContain('shop.orders');
    expect(unconfigured.message).toContain('the warehouse could not run the query');
  });

  it('withholds a syntax error near a keyword, which could be a value parsed as SQL', () => {
    const error = toSourceError(serverError('42601', 'syntax error at or near "from"', { file: 'scan.l' }), queried);
    expect(error.message).toBe(
      "activation 'orders': the segment's SQL has a syntax error (SQLSTATE 42601 syntax_error; the server's message is not shown, as it may quote row values)",
    );
  });

  it('withholds a RAISE even when its text has a known form and configured names', () => {
    const error = toSourceError(serverError('42P01', 'relation "shop.orders" does not exist', { file: 'pl_exec.c', routine: 'exec_stmt_raise' }), queried);
    expect(error.message).not.toContain('shop.orders');
    expect(error.message).toContain("the segment's SQL raised an exception");
  });

  it('shows fixed server texts without any configuration', () => {
    const error = toSourceError(serverError('42501', 'permission denied to terminate process', { file: 'signalfuncs.c' }), context);
    expect(error.message).toContain('the reader role may not read the segment: permission denied to terminate process (SQLSTATE 42501');
  });

  it('says a withheld 25006 was a write in a read-only transaction', () => {
    const error = toSourceError(serverError('25006', 'cannot execute lo_from_bytea() in a read-only transaction', { file: 'utility.c' }), context);
    expect(error.kind).toBe('permanent');
    expect(error.message).not.toContain('lo_from_bytea');
    expect(error.message).toContain('read-only transaction (SQLSTATE 25006 read_only_sql_transaction;');
  });
});

describe('toSourceError: insufficient privilege (42501)', () => {
  it('names the reader role to grant when it is known', () => {
    const error = toSourceError(serverError('42501', 'permission denied for schema app', { file: 'aclchk.c', routine: 'aclcheck_error' }), {
      ...context,
      configText: 'select * from app.ledger',
      readerRole: 'trustpilot_segment_reader',
    });
    expect(error.message).toBe(
      "activation 'orders': the reader role may not read the segment: permission denied for schema app (SQLSTATE 42501 insufficient_privilege); " +
        'GRANT the role "trustpilot_segment_reader" SELECT on the source (see `cli reader-sql`)',
    );
  });

  it('says permission was denied, with the advice, when the text is withheld', () => {
    const error = toSourceError(serverError('42501', 'permission denied for table secret_customers', { file: 'aclchk.c' }), context);
    expect(error.message).toBe(
      "activation 'orders': the reader role may not read the segment: permission denied (SQLSTATE 42501 insufficient_privilege; " +
        "the server's message is not shown, as it may quote row values); GRANT it SELECT on the source (see `cli reader-sql`)",
    );
  });
});

describe('condition names', () => {
  it('knows every SQLSTATE of Postgres 14 to 18, by name', () => {
    expect(SQLSTATE_CONDITION_NAMES.size).toBeGreaterThanOrEqual(260);
    expect(conditionName('42704')).toBe('undefined_object');
    expect(conditionName('25P04')).toBe('transaction_timeout');
    expect(conditionName('58P03')).toBe('file_name_too_long');
    expect(conditionName('HV00N')).toBe('fdw_unable_to_establish_connection');
    expect(conditionName('ZZ999')).toBeUndefined();
  });

  it.each([...SQLSTATE_CONDITION_NAMES])('names %s %s in the message', (code, name) => {
    const error = toSourceError(serverError(code, `no ${PERSONAL_VALUE}`, { file: 'elog.c' }), context);
    expect(error.code).toBe(code);
    expect(error.message).toContain(`SQLSTATE ${code} ${name}`);
    expect(error.message).not.toContain(PERSONAL_VALUE);
  });
});

describe('configTextOf and errorContextFor', () => {
  const base = {
    id: 'orders',
    destinationId: 'acme',
    primaryKey: ['order_id', 'line_no'],
    cursor: { column: 'updated_at' },
    mapping: { consumerName: 'name', consumerEmail: 'Email "Address"', referenceNumber: 'order_id', productSkus: 'sku' },
    products: { mode: 'per_row' },
    schedule: { every: '1h' },
  };

  it('lists the source table, key, cursor and mapped columns as quoted identifiers', () => {
    const activation = activationConfigSchema.parse({ ...base, source: { kind: 'table', schema: 'shop', name: 'orders' } });
    const text = configTextOf(activation);
    for (const name of ['"shop"', '"orders"', '"order_id"', '"line_no"', '"updated_at"', '"name"', '"Email ""Address"""', '"sku"', '"src"']) {
      expect(text).toContain(name);
    }
  });

  it("adds a query's text after the names, so a comment left open at its end hides none of them", () => {
    const activation = activationConfigSchema.parse({ ...base, source: { kind: 'query', sql: 'select * from shop.orders -- all of them' } });
    const text = configTextOf(activation);
    expect(text.endsWith('\nselect * from shop.orders -- all of them')).toBe(true);
    const error = toSourceError(serverError('42703', 'column src.sku does not exist', { file: 'parse_relation.c' }), errorContextFor(activation, { subject: 's' }));
    expect(error.message).toContain('column src.sku does not exist');
  });

  it("builds the whole context, with the activation's statement timeout unless another is given", () => {
    const activation = activationConfigSchema.parse({ ...base, source: { kind: 'view', schema: 'shop', name: 'v' }, statementTimeout: '10m' });
    expect(errorContextFor(activation, { subject: 's', readerRole: 'reader', urlVariable: 'URL' })).toEqual({
      subject: 's',
      readerRole: 'reader',
      urlVariable: 'URL',
      statementTimeout: '10m',
      configText: configTextOf(activation),
    });
    expect(errorContextFor(activation, { subject: 's', statementTimeout: '1m' }).statementTimeout).toBe('1m');
  });
});
