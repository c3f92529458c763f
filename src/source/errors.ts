import type { ActivationConfig } from '../domain/index.ts';
import { PublicError } from '../domain/public-error.ts';
import { ReaderRoleError } from './reader-role.ts';
import { isSqlKeyword, sqlNames } from '../domain/read-only-sql.ts';
import { conditionName, isSqlState } from '../domain/sqlstate.ts';

/**
 * What an operator is told when the warehouse cannot be read, and whether trying again can help.
 *
 * Messages are built here from the SQLSTATE and from the server's text only where that text is
 * one of a few known forms (SERVER_TEXTS) whose every variable part names configuration, and
 * every such part is a name the activation's own configuration uses. The same forms can carry a
 * row's value (`select customer_email::regclass` fails with `relation "<the email>" does not
 * exist`), so the form alone proves nothing. Anything else contributes its code and condition
 * name only: personal data never enters a message in the first place.
 */

export type SourceErrorKind =
  /** the segment as configured cannot be read: fix the configuration, the SQL or the grants */
  | 'permanent'
  /** the warehouse is unreachable, restarting or overloaded: try again later */
  | 'transient';

export class SourceError extends PublicError {
  override readonly name = 'SourceError';
  constructor(
    message: string,
    readonly kind: SourceErrorKind,
    readonly sqlState?: string,
  ) {
    super(message);
  }
}

/** SQLSTATE classes that no retry can fix. */
const PERMANENT_CLASSES = new Set(['0A', '22', '23', '25', '28', '2F', '38', '39', '3D', '3F', '42', '54', 'P0']);

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);

/**
 * The reader's queries name the source `src` (src/source/shape.ts), so the server's
 * `column src.emial does not exist` names it too.
 */
const SOURCE_ALIAS = 'src';

/** Names the configuration uses, compared case-insensitively. */
type ConfigNames = ReadonlySet<string>;
/** Whether one captured part of a server message is safe to show. */
type CaptureCheck = (capture: string, names: ConfigNames) => boolean;

/**
 * A name as the server prints it: dotted parts, each bare (`shop.orders`) or double-quoted
 * (`"Shop"."Orders"`). Every part must be a name of the configuration.
 */
const configuredName: CaptureCheck = (capture, names) => {
  const parts = nameParts(capture);
  return parts !== undefined && parts.every((part) => names.has(part.toLowerCase()));
};

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

interface ServerText {
  /** the whole message; each capturing group is checked by the check at its position */
  pattern: RegExp;
  checks: readonly CaptureCheck[];
}

function serverText(pattern: RegExp, ...checks: CaptureCheck[]): ServerText {
  // Every variable part of a form must be captured and checked: a form with an unchecked group
  // would show whatever the group matched.
  const groups = (new RegExp(`${pattern.source}|`).exec('')?.length ?? 1) - 1;
  if (!pattern.source.startsWith('^') || !pattern.source.endsWith('$') || groups !== checks.length) {
    throw new Error(`server text form ${pattern.source} must be anchored and check each of its ${groups} group(s)`);
  }
  return { pattern, checks };
}

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

/** `a.b`, `"A"."B"`, `a."B c"` into its parts; undefined for anything else (an empty part, a stray quote). */
function nameParts(text: string): string[] | undefined {
  const parts: string[] = [];
  let index = 0;
  for (;;) {
    let part = '';
    if (text[index] === '"') {
      index += 1;
      for (;;) {
        const quote = text.indexOf('"', index);
        if (quote === -1) return undefined;
        part += text.slice(index, quote);
        index = quote + 1;
        if (text[index] !== '"') break;
        part += '"';
        index += 1;
      }
    } else {
      const dot = text.indexOf('.', index);
      const end = dot === -1 ? text.length : dot;
      part = text.slice(index, end);
      if (part.includes('"')) return undefined;
      index = end;
    }
    if (part === '') return undefined;
    parts.push(part);
    if (index === text.length) return parts;
    if (text[index] !== '.') return undefined;
    index += 1;
  }
}

/** The server's message when it is a known form naming only configured names, else undefined. */
function showableServerText(sqlState: string, message: string, configText: string | undefined): string | undefined {
  const forms = SERVER_TEXTS[sqlState];
  if (forms === undefined) return undefined;
  let names: ConfigNames | undefined;
  for (const { pattern, checks } of forms) {
    const match = pattern.exec(message);
    if (match === null) continue;
    names ??= new Set(sqlNames(configText ?? '').map((name) => name.toLowerCase()));
    const known = names;
    if (checks.every((check, index) => check(match[index + 1] ?? '', known))) return message;
  }
  return undefined;
}

function sqlStateOf(error: unknown): string | undefined {
  if (!(error instanceof Error) || !('code' in error) || typeof error.code !== 'string') return undefined;
  return isSqlState(error.code) ? error.code : undefined;
}

function networkCodeOf(error: unknown): string | undefined {
  if (!(error instanceof Error) || !('code' in error) || typeof error.code !== 'string') return undefined;
  return NETWORK_CODES.has(error.code) ? error.code : undefined;
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

export interface SourceErrorContext {
  /** e.g. "activation 'demo-orders'" */
  subject: string;
  /** the statement timeout in force, to say which option to raise */
  statementTimeout?: string;
  /** the environment variable that holds the warehouse URL */
  urlVariable?: string;
  /**
   * The names the activation configures, read as SQL text (see configTextOf): the server's text is
   * shown only when every name it quotes is one of them. Without it, no server text that names
   * something is shown.
   */
  configText?: string;
  /** the warehouse role segments are read as, to name in the GRANT advice */
  readerRole?: string;
}

/**
 * The names an activation configures, as SQL text: its source's schema and table, or its query;
 * its key, cursor and mapped columns. Names are quoted identifiers and come first, so that an
 * unterminated comment at the end of the query cannot hide them.
 */
export function configTextOf(activation: ActivationConfig): string {
  const source = activation.source;
  const names = [
    ...(source.kind === 'query' ? [] : [source.schema, source.name]),
    ...activation.primaryKey,
    ...(activation.cursor ? [activation.cursor.column] : []),
    ...Object.values(activation.mapping).filter((column): column is string => typeof column === 'string'),
    SOURCE_ALIAS,
  ];
  const quoted = names.map((name) => `"${name.replaceAll('"', '""')}"`).join(' ');
  return source.kind === 'query' ? `${quoted}\n${source.sql}` : quoted;
}

/** The context toSourceError needs to describe a read of `activation`'s segment. */
export function errorContextFor(
  activation: ActivationConfig,
  context: { subject: string; readerRole?: string; urlVariable?: string; statementTimeout?: string },
): SourceErrorContext {
  return { ...context, statementTimeout: context.statementTimeout ?? activation.statementTimeout, configText: configTextOf(activation) };
}

const WITHHELD = "the server's message is not shown, as it may quote row values";

/**
 * A read the product itself ended (a limit, a silent server): its message is the product's own
 * and holds no server text, so it is shown as is, after the activation's name.
 */
export class ReadStopped extends Error {
  override readonly name: string = 'ReadStopped';
  constructor(
    message: string,
    readonly kind: SourceErrorKind,
  ) {
    super(message);
  }
}

/** Turns anything a warehouse read threw into a SourceError whose message is safe to show anywhere. */
export function toSourceError(error: unknown, context: SourceErrorContext): SourceError {
  if (error instanceof SourceError) return error;
  if (error instanceof ReadStopped) return new SourceError(`${context.subject}: ${error.message}`, error.kind);
  // Found by the check before every read: a grant made since the worker started.
  if (error instanceof ReaderRoleError) return new SourceError(`${context.subject}: ${error.summary}`, 'permanent');
  const urlVariable = context.urlVariable ?? 'WAREHOUSE_DATABASE_URL';
  const sqlState = sqlStateOf(error);
  if (sqlState === undefined) {
    const network = networkCodeOf(error);
    if (network) return new SourceError(`${context.subject}: cannot reach the warehouse (${network}); check ${urlVariable} and that the server is up`, 'transient');
    if (error instanceof Error && /timeout expired|Connection terminated/i.test(error.message)) {
      return new SourceError(`${context.subject}: the warehouse connection was lost or timed out; check ${urlVariable} and that the server is up`, 'transient');
    }
    const type = error instanceof Error ? error.name : typeof error;
    return new SourceError(`${context.subject}: the segment could not be read (unexpected ${type})`, 'transient');
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
  const shown = serverWritten ? showableServerText(sqlState, error.message, context.configText) : undefined;
  if (sqlState === '42501') {
    const role = context.readerRole === undefined ? 'it' : `the role "${context.readerRole.replaceAll('"', '""')}"`;
    const what = shown === undefined ? `permission denied (${condition}; ${WITHHELD})` : `${shown} (${condition})`;
    return new SourceError(
      `${context.subject}: the reader role may not read the segment: ${what}; GRANT ${role} SELECT on the source (see \`cli reader-sql\`)`,
      'permanent',
      sqlState,
    );
  }
  const kind: SourceErrorKind = PERMANENT_CLASSES.has(errorClass) ? 'permanent' : 'transient';
  if (shown !== undefined) return new SourceError(`${context.subject}: ${shown} (${condition})`, kind, sqlState);
  return new SourceError(`${context.subject}: ${withheldDescription(sqlState, serverWritten)} (${condition}; ${WITHHELD})`, kind, sqlState);
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
