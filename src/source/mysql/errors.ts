import { commonSourceError, SourceError, unexpectedSourceError, WITHHELD, type SourceErrorContext, type SourceErrorKind, type SourceProblem } from '../errors.ts';
import { configuredName, serverText, showableServerText, type CaptureCheck, type ServerText } from '../server-text.ts';

/**
 * A MySQL or MariaDB warehouse's errors as the product's: from the error number, and from the
 * server's text only in the forms listed here whose every variable part is a configured name (or
 * the reader's own account, or the server's own words). Anything else is the number, its name and
 * fixed text: `CAST(email AS SIGNED)` fails with "Truncated incorrect INTEGER value: '<the email>'".
 */

interface MySqlError extends Error {
  errno: number;
  code?: string;
  sqlMessage?: string;
}

function mysqlErrorOf(error: unknown): MySqlError | undefined {
  if (!(error instanceof Error) || !('errno' in error) || typeof error.errno !== 'number') return undefined;
  return error as MySqlError;
}

/** A name the server quotes as `db`.`t`, 'db.t' or db.t: every part a configured name. */
const mysqlName: CaptureCheck = (capture, names) => {
  const backticked = /^`((?:[^`]|``)+)`(?:\.`((?:[^`]|``)+)`)?$/.exec(capture);
  if (backticked) return [backticked[1], backticked[2]].filter((part) => part !== undefined).every((part) => names.has(part.replaceAll('``', '`').toLowerCase()));
  return configuredName(capture, names);
};

const CLAUSES = new Set(['field list', 'where clause', 'on clause', 'order clause', 'having clause', 'group statement', 'IN/ALL/ANY subquery', 'from clause', 'order by', 'group by', 'RETURNING']);
const clause: CaptureCheck = (capture) => CLAUSES.has(capture);
const serverWord: CaptureCheck = (capture) => /^[A-Za-z_ ,]+$/.test(capture);
const digits: CaptureCheck = (capture) => /^\d+$/.test(capture);
const host: CaptureCheck = (capture) => /^[\w.:%-]+$/.test(capture);

/** The forms of one error number, some of them checked against this read's reader and query. */
function serverTexts(errno: number, context: SourceErrorContext): readonly ServerText[] | undefined {
  const user: CaptureCheck = (capture) => capture === accountName(context.readerRole);
  // A syntax error quotes the statement from where it stopped: shown when that is the configured query's own text.
  const queryText: CaptureCheck = (capture) => context.configText !== undefined && context.configText.includes(capture);
  switch (errno) {
    case 1044:
      return [serverText(/^Access denied for user '(.+)'@'(.+)' to database '(.+)'$/, user, host, mysqlName)];
    case 1049:
      return [serverText(/^Unknown database '(.+)'$/, mysqlName)];
    case 1052:
      return [serverText(/^Column '(.+)' in (.+) is ambiguous$/, mysqlName, clause)];
    case 1054:
      return [serverText(/^Unknown column '(.+)' in '(.+)'$/, mysqlName, clause)];
    case 1060:
      return [serverText(/^Duplicate column name '(.+)'$/, mysqlName)];
    case 1064:
      return [serverText(/^You have an error in your SQL syntax; check the manual that corresponds to your (MariaDB|MySQL) server version for the right syntax to use near '([\s\S]*)' at line (\d+)$/, serverWord, queryText, digits)];
    case 1142:
      return [
        serverText(/^([A-Z ]+) command denied to user '(.+)'@'(.+)' for table (`.+`)$/, serverWord, user, host, mysqlName),
        serverText(/^([A-Z ]+) command denied to user '(.+)'@'(.+)' for table '(.+)'$/, serverWord, user, host, mysqlName),
      ];
    case 1143:
      return [serverText(/^([A-Z ]+) command denied to user '(.+)'@'(.+)' for column '(.+)' in table '(.+)'$/, serverWord, user, host, mysqlName, mysqlName)];
    case 1146:
      return [serverText(/^Table '(.+)' doesn't exist$/, mysqlName)];
    case 1222:
      return [serverText(/^The used SELECT statements have a different number of columns$/)];
    case 1227:
      return [serverText(/^Access denied; you need \(at least one of\) the ([A-Z_ ,]+) privilege\(s\) for this operation$/, serverWord)];
    case 1241:
      return [serverText(/^Operand should contain (\d+) column\(s\)$/, digits)];
    case 1242:
      return [serverText(/^Subquery returns more than 1 row$/)];
    case 1248:
      return [serverText(/^Every derived table must have its own alias$/)];
    case 1305:
      return [serverText(/^(FUNCTION|PROCEDURE) (.+) does not exist$/, serverWord, mysqlName)];
    case 1356:
      return [serverText(/^View '(.+)' references invalid table\(s\) or column\(s\) or function\(s\) or definer\/invoker of view lack rights to use them$/, mysqlName)];
    case 1792:
      return [serverText(/^Cannot execute statement in a READ ONLY transaction\.?$/)];
    case 1205:
      return [serverText(/^Lock wait timeout exceeded; try restarting transaction$/)];
    case 1213:
      return [serverText(/^Deadlock found when trying to get lock; try restarting transaction$/)];
    case 1040:
      return [serverText(/^Too many connections$/)];
    default:
      return undefined;
  }
}

/** `reader` of the reader's account (`'reader'@'%'`, `` `reader`@`%` `` or plain `reader`). */
function accountName(account: string | undefined): string | undefined {
  if (account === undefined) return undefined;
  const quoted = /^['`](.+?)['`]@/.exec(account);
  return quoted ? quoted[1] : account.split('@')[0];
}

/** Error numbers a retry may get past: the server restarting, out of connections, a lock or a deadlock, a killed query. */
const TRANSIENT = new Set([1040, 1053, 1077, 1152, 1153, 1154, 1155, 1156, 1157, 1158, 1159, 1160, 1161, 1203, 1205, 1213, 1317, 1927, 2002, 2003, 2006, 2013, 4031]);
const TIMEOUTS = new Set([1969, 3024, 1907]);
const NO_ACCESS = new Set([1044, 1142, 1143, 1370]);
const MISSING = new Set([1146, 1049]);
const CONNECTION_CODES = /^(PROTOCOL_CONNECTION_LOST|PROTOCOL_SEQUENCE_TIMEOUT|PROTOCOL_PACKETS_OUT_OF_ORDER|ER_CON_COUNT_ERROR|ECONNABORTED)$/;

function conditionOf(error: MySqlError): string {
  const name = error.code !== undefined && /^ER_[A-Z0-9_]+$/.test(error.code) ? ` ${error.code}` : '';
  return `MySQL error ${error.errno}${name}`;
}

function withheldDescription(errno: number): string {
  if ([1292, 1366, 1365, 1406, 1264, 1690, 3156, 4038, 4037, 3141, 3140, 1918, 1411].includes(errno)) return 'a value in the segment does not fit the query';
  if (errno === 1644 || errno === 1643) return "the segment's SQL raised an exception";
  if (errno === 1064 || errno === 1149) return "the segment's SQL has a syntax error";
  return 'the warehouse could not run the query';
}

/** Turns anything a MySQL warehouse read threw into a SourceError whose message is safe to show anywhere. */
export function describeMySqlError(error: unknown, context: SourceErrorContext): SourceError {
  const common = commonSourceError(error, context);
  if (common) return common;
  const urlVariable = context.urlVariable ?? 'the warehouse URL';
  const found = mysqlErrorOf(error);
  if (found === undefined) {
    const code = error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : '';
    if (CONNECTION_CODES.test(code) || (error instanceof Error && /connect ETIMEDOUT|Connection lost/i.test(error.message))) {
      return new SourceError(`${context.subject}: the warehouse connection was lost or timed out; check ${urlVariable} and that the server is up`, 'transient');
    }
    return unexpectedSourceError(error, context);
  }
  const errno = found.errno;
  const condition = conditionOf(found);
  if (TIMEOUTS.has(errno)) {
    const limit = context.statementTimeout ? ` of ${context.statementTimeout}` : '';
    // The option the server enforced it with: an operator comparing with the server's settings looks for it by name.
    const option = errno === 3024 || errno === 1907 ? 'max_execution_time on MySQL' : 'max_statement_time on MariaDB';
    return new SourceError(
      `${context.subject}: reading the segment took longer than its statement timeout${limit} (${option}; ${condition}); make the query faster, narrow it with a cursor, or raise the activation's statementTimeout`,
      'permanent',
      String(errno),
    );
  }
  if (errno === 1045 || errno === 1698 || errno === 1251 || errno === 1862 || errno === 4151) {
    return new SourceError(`${context.subject}: the warehouse refused the reader's credentials (${condition}); check ${urlVariable}`, 'permanent', String(errno));
  }
  const shown = showableServerText(serverTexts(errno, context), found.sqlMessage ?? found.message, context.configText);
  if (NO_ACCESS.has(errno)) {
    const what = shown === undefined ? `permission denied (${condition}; ${WITHHELD})` : `${shown} (${condition})`;
    const reader = context.readerRole ?? 'the reader';
    return new SourceError(`${context.subject}: the reader role may not read the segment: ${what}; GRANT ${reader} SELECT on the source (see \`cli reader-sql\`)`, 'permanent', String(errno), 'no-access');
  }
  const kind: SourceErrorKind = TRANSIENT.has(errno) || errno >= 2000 ? 'transient' : 'permanent';
  const problem: SourceProblem | undefined = MISSING.has(errno) ? 'missing-source' : undefined;
  if (kind === 'transient' && shown === undefined) {
    return new SourceError(`${context.subject}: the warehouse is restarting, overloaded or the read conflicted with other work (${condition}); it is retried`, 'transient', String(errno));
  }
  if (shown !== undefined) return new SourceError(`${context.subject}: ${shown} (${condition})`, kind, String(errno), problem);
  return new SourceError(`${context.subject}: ${withheldDescription(errno)} (${condition}; ${WITHHELD})`, kind, String(errno), problem);
}
