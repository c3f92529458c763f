import { isSqlKeyword } from '../../domain/read-only-sql.ts';
import { conditionName, isSqlState } from '../../domain/sqlstate.ts';
import { commonSourceError, SourceError, unexpectedSourceError, WITHHELD, type SourceErrorContext, type SourceErrorKind } from '../errors.ts';
import { configuredName, serverText, showableServerText, type CaptureCheck, type ServerText } from '../server-text.ts';

/**
 * A Postgres warehouse's errors as the product's: from the SQLSTATE, and from the server's text
 * only in the forms listed here (SERVER_TEXTS) whose every variable part is a configured name.
 */

/** SQLSTATE classes that no retry can fix. */
const PERMANENT_CLASSES = new Set(['0A', '22', '23', '25', '28', '2F', '38', '39', '3D', '3F', '42', '54', 'P0']);

/** Type names as the server prints them (format_type_be); any other type must be a configured name. */
const BUILT_IN_TYPES = new Set(
  [
    '"any"', '"char"', 'aclitem', 'anyarray', 'anycompatible', 'anycompatiblearray', 'anycompatiblemultirange',
    'anycompatiblenonarray', 'anycompatiblerange', 'anyelement', 'anyenum', 'anymultirange', 'anynonarray', 'anyrange',
    'bigint', 'bit', 'bit varying', 'boolean', 'box', 'bytea', 'character', 'character varying', 'cid', 'cidr', 'circle',
    'cstring', 'date', 'datemultirange', 'daterange', 'double precision', 'inet', 'int2vector', 'int4multirange',
    'int4range', 'int8multirange', 'int8range', 'integer', 'internal', 'interval', 'json', 'jsonb', 'jsonpath', 'line',
    'lseg', 'macaddr', 'macaddr8', 'money', 'name', 'numeric', 'nummultirange', 'numrange', 'oid', 'oidvector', 'path',
    'pg_lsn', 'pg_snapshot', 'point', 'polygon', 'real', 'record', 'refcursor', 'regclass', 'regcollation', 'regconfig',
    'regdictionary', 'regnamespace', 'regoper', 'regoperator', 'regproc', 'regprocedure', 'regrole', 'regtype',
    'smallint', 'text', 'tid', 'time with time zone', 'time without time zone', 'timestamp with time zone',
    'timestamp without time zone', 'trigger', 'tsmultirange', 'tsquery', 'tsrange', 'tstzmultirange', 'tstzrange',
    'tsvector', 'txid_snapshot', 'unknown', 'uuid', 'void', 'xid', 'xid8', 'xml',
  ],
);

const typeName: CaptureCheck = (capture, names) => {
  const element = capture.replace(/(?:\[\])+$/, '');
  return BUILT_IN_TYPES.has(element) || configuredName(element, names);
};

/** A function's argument types as func_signature_string prints them: `integer, text` or `a => integer`. */
const argumentTypes: CaptureCheck = (capture, names) =>
  capture === '' ||
  capture.split(', ').every((argument) => {
    const named = /^(\S+) => (.+)$/.exec(argument);
    return named ? configuredName(named[1] ?? '', names) && typeName(named[2] ?? '', names) : typeName(argument, names);
  });

/** SQL words in capitals (`SELECT FOR UPDATE`, `JOIN/ON`): text of the server's own, never a value. */
const keywordsOnly = (capture: string): boolean => /^[A-Z]+(?:[ /][A-Z]+)*$/.test(capture) && capture.split(/[ /]/).every(isSqlKeyword);

/** What PreventCommandIfReadOnly names: a command tag (`CREATE TABLE`) or a function (`nextval()`, `lo_open(INV_WRITE)`). */
const command: CaptureCheck = (capture, names) => {
  if (keywordsOnly(capture)) return true;
  const called = /^([^()]+)\((?:INV_WRITE)?\)$/.exec(capture);
  return called !== null && configuredName(called[1] ?? '', names);
};

const clause: CaptureCheck = (capture) => keywordsOnly(capture);

const OBJECT_KINDS =
  'aggregate|collation|column|conversion|database|domain|event trigger|extension|foreign-data wrapper|foreign server|' +
  'foreign table|function|index|language|large object|materialized view|operator class|operator family|operator|' +
  'parameter|policy|procedure|publication|routine|schema|sequence|statistics object|subscription|table|tablespace|' +
  'text search configuration|text search dictionary|view|relation';
const OPERATOR = '[~!@#%^&|`?+\\-*/<>=]+';

/**
 * The server messages that may be shown, per SQLSTATE, as Postgres 14 to 18 word them (ereport
 * texts of the parser, aclchk.c, utility.c, signalfuncs.c, guc.c, postgres.c). Shown only when
 * the whole message matches a form and every captured part passes its check.
 */
const SERVER_TEXTS: Readonly<Record<string, readonly ServerText[]>> = {
  '0A000': [
    serverText(/^cross-database references are not implemented: "(.+)"$/, configuredName),
    serverText(/^cross-database references are not implemented: (.+)$/, configuredName),
  ],
  '25006': [
    serverText(/^cannot execute (.+) in a read-only transaction$/, command),
    serverText(/^cannot execute (.+) during recovery$/, command),
  ],
  '25P02': [serverText(/^current transaction is aborted, commands ignored until end of transaction block$/)],
  '25P03': [serverText(/^terminating connection due to idle-in-transaction timeout$/)],
  '25P04': [serverText(/^terminating connection due to transaction timeout$/)],
  '3D000': [serverText(/^database "(.+)" does not exist$/, configuredName)],
  '3F000': [serverText(/^schema "(.+)" does not exist$/, configuredName), serverText(/^no schema has been selected to create in$/)],
  '40001': [
    serverText(/^could not serialize access due to (?:concurrent update|concurrent delete|read\/write dependencies among transactions)$/),
    serverText(/^canceling statement due to conflict with recovery$/),
  ],
  '40P01': [serverText(/^deadlock detected$/)],
  '42501': [
    serverText(new RegExp(`^permission denied for (?:${OBJECT_KINDS}) (.+)$`), configuredName),
    serverText(/^permission denied for type (.+)$/, typeName),
    serverText(/^permission denied for column "(.+)" of relation "(.+)"$/, configuredName, configuredName),
    serverText(/^permission denied to set parameter "(.+)"$/, configuredName),
    serverText(/^permission denied to examine "(.+)"$/, configuredName),
    serverText(/^must be superuser or (?:a member of|have privileges of) pg_read_all_settings to examine "(.+)"$/, configuredName),
    serverText(/^query would be affected by row-level security policy for table "(.+)"$/, configuredName),
    serverText(/^permission denied to (?:terminate process|cancel query)$/),
    serverText(/^must be a superuser to (?:terminate superuser process|cancel superuser query)$/),
    serverText(/^must be a member of the role whose (?:process is being terminated|query is being canceled) or member of pg_signal_backend$/),
  ],
  // A syntax error can come from parsing a value (`customer_name::regproc`), so the token named must
  // be a configured name too; a keyword never is (see sqlNames), whatever the query.
  '42601': [
    serverText(/^syntax error at or near "(.+)"$/, configuredName),
    serverText(/^syntax error at end of input$/),
    // The extended protocol's answer to a segment that holds more than one statement.
    serverText(/^cannot insert multiple commands into a prepared statement$/),
    serverText(/^zero-length delimited identifier at or near """"$/),
  ],
  '42602': [serverText(/^invalid name syntax$/)],
  '42702': [serverText(/^column reference "(.+)" is ambiguous$/, configuredName)],
  '42703': [
    serverText(/^column "(.+)" does not exist$/, configuredName),
    serverText(/^column (.+) does not exist$/, configuredName),
    serverText(/^column "(.+)" of relation "(.+)" does not exist$/, configuredName, configuredName),
  ],
  '42704': [serverText(/^type "(.+)" does not exist$/, configuredName), serverText(/^window "(.+)" does not exist$/, configuredName)],
  '42712': [serverText(/^table name "(.+)" specified more than once$/, configuredName)],
  '42803': [
    serverText(/^column "(.+)" must appear in the GROUP BY clause or be used in an aggregate function$/, configuredName),
    serverText(/^subquery uses ungrouped column "(.+)" from outer query$/, configuredName),
    serverText(/^aggregate function calls cannot be nested$/),
  ],
  '42804': [
    serverText(/^argument of (.+) must be type (.+), not type (.+)$/, clause, typeName, typeName),
    serverText(/^(.+) types (.+) and (.+) cannot be matched$/, clause, typeName, typeName),
  ],
  '42809': [serverText(/^window function (.+) requires an OVER clause$/, configuredName)],
  '42846': [serverText(/^cannot cast type (.+) to (.+)$/, typeName, typeName)],
  '42883': [
    serverText(/^function ([^(]+)\((.*)\) does not exist$/, configuredName, argumentTypes),
    serverText(/^function "(.+)" does not exist$/, configuredName),
    serverText(new RegExp(`^operator does not exist: (.+) ${OPERATOR} (.+)$`), typeName, typeName),
    serverText(new RegExp(`^operator does not exist: ${OPERATOR} (.+)$`), typeName),
    serverText(/^could not identify an (?:equality|ordering) operator for type (.+)$/, typeName),
  ],
  '42725': [
    serverText(/^function ([^(]+)\((.*)\) is not unique$/, configuredName, argumentTypes),
    serverText(new RegExp(`^operator is not unique: (.+) ${OPERATOR} (.+)$`), typeName, typeName),
    serverText(new RegExp(`^operator is not unique: ${OPERATOR} (.+)$`), typeName),
  ],
  '42P01': [
    serverText(/^relation "(.+)" does not exist$/, configuredName),
    serverText(/^missing FROM-clause entry for table "(.+)"$/, configuredName),
    serverText(/^invalid reference to FROM-clause entry for table "(.+)"$/, configuredName),
  ],
  '42P10': [
    serverText(/^for SELECT DISTINCT, ORDER BY expressions must appear in select list$/),
    serverText(/^SELECT DISTINCT ON expressions must match initial ORDER BY expressions$/),
  ],
  '42P22': [serverText(/^could not determine which collation to use for string comparison$/)],
  '53200': [serverText(/^out of memory$/)],
  '53300': [
    serverText(/^sorry, too many clients already$/),
    serverText(
      /^remaining connection slots are reserved for (?:non-replication superuser connections|roles with the SUPERUSER attribute|roles with privileges of the "pg_use_reserved_connections" role)$/,
    ),
  ],
  '54001': [serverText(/^stack depth limit exceeded$/)],
  '55P03': [serverText(/^canceling statement due to lock timeout$/), serverText(/^could not obtain lock on relation "(.+)"$/, configuredName)],
};

function sqlStateOf(error: unknown): string | undefined {
  if (!(error instanceof Error) || !('code' in error) || typeof error.code !== 'string') return undefined;
  return isSqlState(error.code) ? error.code : undefined;
}

/**
 * Server text may be shown only when the server itself wrote it: a RAISE in a procedural language
 * can pick any SQLSTATE (42501 included) and put anything in its message.
 */
function isServerWritten(error: Error): boolean {
  const file = 'file' in error && typeof error.file === 'string' ? error.file : undefined;
  const routine = 'routine' in error && typeof error.routine === 'string' ? error.routine : undefined;
  if (file === undefined) return false;
  return !/^pl/i.test(file) && routine !== 'exec_stmt_raise';
}

function conditionOf(sqlState: string): string {
  const name = conditionName(sqlState);
  return name ? `SQLSTATE ${sqlState} ${name}` : `SQLSTATE ${sqlState}`;
}

/** Turns anything a Postgres warehouse read threw into a SourceError whose message is safe to show anywhere. */
export function describePostgresError(error: unknown, context: SourceErrorContext): SourceError {
  const common = commonSourceError(error, context);
  if (common) return common;
  const urlVariable = context.urlVariable ?? 'WAREHOUSE_DATABASE_URL';
  const sqlState = sqlStateOf(error);
  if (sqlState === undefined) {
    if (error instanceof Error && /timeout expired|Connection terminated/i.test(error.message)) {
      return new SourceError(`${context.subject}: the warehouse connection was lost or timed out; check ${urlVariable} and that the server is up`, 'transient');
    }
    return unexpectedSourceError(error, context);
  }
  const errorClass = sqlState.slice(0, 2);
  const condition = conditionOf(sqlState);
  if (sqlState === '57014') {
    const limit = context.statementTimeout ? ` of ${context.statementTimeout}` : '';
    return new SourceError(
      `${context.subject}: reading the segment took longer than its statement timeout${limit} (${condition}); make the query faster, narrow it with a cursor, or raise the activation's statementTimeout`,
      'permanent',
      sqlState,
    );
  }
  if (errorClass === '08' || sqlState === '57P01' || sqlState === '57P02' || sqlState === '57P03') {
    return new SourceError(`${context.subject}: the warehouse connection failed or the server is restarting (${condition}); check ${urlVariable} and that the server is up`, 'transient', sqlState);
  }
  if (errorClass === '28') {
    return new SourceError(`${context.subject}: the warehouse refused the reader's credentials (${condition}); check ${urlVariable}`, 'permanent', sqlState);
  }
  const serverWritten = error instanceof Error && isServerWritten(error);
  const shown = serverWritten ? showableServerText(SERVER_TEXTS[sqlState], error.message, context.configText) : undefined;
  if (sqlState === '42501') {
    const role = context.readerRole === undefined ? 'it' : `the role "${context.readerRole.replaceAll('"', '""')}"`;
    const what = shown === undefined ? `permission denied (${condition}; ${WITHHELD})` : `${shown} (${condition})`;
    return new SourceError(
      `${context.subject}: the reader role may not read the segment: ${what}; GRANT ${role} SELECT on the source (see \`cli reader-sql\`)`,
      'permanent',
      sqlState,
      'no-access',
    );
  }
  const kind: SourceErrorKind = PERMANENT_CLASSES.has(errorClass) ? 'permanent' : 'transient';
  const problem = sqlState === '42P01' || sqlState === '3F000' ? 'missing-source' : undefined;
  if (shown !== undefined) return new SourceError(`${context.subject}: ${shown} (${condition})`, kind, sqlState, problem);
  return new SourceError(`${context.subject}: ${withheldDescription(sqlState, serverWritten)} (${condition}; ${WITHHELD})`, kind, sqlState, problem);
}

/** What a withheld message was about, from its SQLSTATE alone. */
function withheldDescription(sqlState: string, serverWritten: boolean): string {
  const errorClass = sqlState.slice(0, 2);
  if (errorClass === '22') return 'a value in the segment does not fit the query';
  if (errorClass === 'P0' || !serverWritten) return "the segment's SQL raised an exception";
  if (sqlState === '25006') return "the segment's SQL tried to write, and segments are read in a read-only transaction";
  if (sqlState === '42601') return "the segment's SQL has a syntax error";
  if (errorClass === '53') return 'the warehouse is short of a resource (memory, disk or connections)';
  if (errorClass === '40') return 'the read conflicted with other work on the warehouse';
  return 'the warehouse could not run the query';
}
