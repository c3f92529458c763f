import { describe, expect, it } from 'vitest';
import { SourceError, toSourceError, type SourceErrorContext } from '../../src/source/errors.ts';
import { activationConfigSchema } from '../../src/domain/index.ts';

const context: SourceErrorContext = { subject: "activation 'orders'", statementTimeout: '5m' };

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
    const error = toSourceError(serverError('42P01', 'relation "shop.ordrs" does not exist', { file: 'parse_relation.c', routine: 'parserOpenTable' }), context);
    expect(error).toBeInstanceOf(SourceError);
    expect(error.kind).toBe('permanent');
    expect(error.sqlState).toBe('42P01');
    expect(error.message).toContain('relation "shop.ordrs" does not exist');
    expect(error.message).toContain('SQLSTATE 42P01 undefined_table');
    expect(error.message).toContain("activation 'orders'");
  });

  it('is permanent for a missing grant (42501) and advises granting the reader role SELECT', () => {
    const error = toSourceError(serverError('42501', 'permission denied for table orders', { file: 'aclchk.c', routine: 'aclcheck_error' }), context);
    expect(error.kind).toBe('permanent');
    expect(error.message).toContain('the reader role may not read the segment');
    expect(error.message).toContain('permission denied for table orders');
    expect(error.message).toContain('GRANT it SELECT on the source');
    expect(error.message).toContain('cli reader-sql');
  });

  it('is permanent for an undefined column (42703) and shows the server text', () => {
    const error = toSourceError(serverError('42703', 'column "emial" does not exist', { file: 'parse_relation.c', routine: 'errorMissingColumn' }), context);
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
    expect(error.sqlState).toBe('22P02');
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
    expect(error.sqlState).toBe('08006');
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
    expect(error.sqlState).toBeUndefined();
    expect(error.message).toContain('cannot reach the warehouse (ECONNREFUSED)');
    expect(error.message).toContain('WAREHOUSE_DATABASE_URL');
  });

  it.each(['ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE'])('is transient for %s and names the URL variable, not a SQLSTATE', (code) => {
    const error = toSourceError(nodeError(code, `socket ${code}`), context);
    expect(error.kind).toBe('transient');
    expect(error.sqlState).toBeUndefined();
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
