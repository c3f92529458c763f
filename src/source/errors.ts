import { PublicError } from '../domain/public-error.ts';
import { isSqlState } from '../domain/sqlstate.ts';

/**
 * What an operator is told when the warehouse cannot be read, and whether trying again can help.
 *
 * Messages are built here from the SQLSTATE and from server text of the classes that only name
 * configuration (a relation, a column, a role, a host). Classes whose text can quote a row's value
 * (data exceptions, RAISE from a function, integrity errors, internal errors) contribute their
 * code only: personal data never enters a message in the first place.
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

/** SQLSTATE classes whose server text names only configuration, so it may be shown. */
const DESCRIPTIVE_CLASSES = new Set(['08', '0A', '25', '28', '3D', '3F', '42', '53', '54', '55', '57', '58']);
/** SQLSTATE classes that no retry can fix. */
const PERMANENT_CLASSES = new Set(['0A', '22', '23', '25', '28', '2F', '38', '39', '3D', '3F', '42', '54', 'P0']);

const CONDITION_NAMES: Readonly<Record<string, string>> = {
  '22P02': 'invalid_text_representation',
  '22003': 'numeric_value_out_of_range',
  '22012': 'division_by_zero',
  '22007': 'invalid_datetime_format',
  '22008': 'datetime_field_overflow',
  '23505': 'unique_violation',
  '25006': 'read_only_sql_transaction',
  '28000': 'invalid_authorization_specification',
  '28P01': 'invalid_password',
  '3D000': 'invalid_catalog_name',
  '3F000': 'invalid_schema_name',
  '42501': 'insufficient_privilege',
  '42601': 'syntax_error',
  '42703': 'undefined_column',
  '42883': 'undefined_function',
  '42P01': 'undefined_table',
  '57014': 'query_canceled',
  P0001: 'raise_exception',
};

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);

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
  const name = CONDITION_NAMES[sqlState];
  return name ? `SQLSTATE ${sqlState} ${name}` : `SQLSTATE ${sqlState}`;
}

export interface SourceErrorContext {
  /** e.g. "activation 'demo-orders'" */
  subject: string;
  /** the statement timeout in force, to say which option to raise */
  statementTimeout?: string;
  /** the environment variable that holds the warehouse URL */
  urlVariable?: string;
}

/** Turns anything a warehouse read threw into a SourceError whose message is safe to show anywhere. */
export function toSourceError(error: unknown, context: SourceErrorContext): SourceError {
  if (error instanceof SourceError) return error;
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
  if (sqlState === '57014') {
    const limit = context.statementTimeout ? ` of ${context.statementTimeout}` : '';
    return new SourceError(
      `${context.subject}: reading the segment took longer than its statement timeout${limit} (${conditionOf(sqlState)}); make the query faster, narrow it with a cursor, or raise the activation's statementTimeout`,
      'permanent',
      sqlState,
    );
  }
  if (errorClass === '08' || sqlState === '57P01' || sqlState === '57P02' || sqlState === '57P03') {
    return new SourceError(`${context.subject}: the warehouse connection failed or the server is restarting (${conditionOf(sqlState)}); check ${urlVariable} and that the server is up`, 'transient', sqlState);
  }
  if (errorClass === '28') {
    return new SourceError(`${context.subject}: the warehouse refused the reader's credentials (${conditionOf(sqlState)}); check ${urlVariable}`, 'permanent', sqlState);
  }
  const descriptive = DESCRIPTIVE_CLASSES.has(errorClass) && error instanceof Error && isServerWritten(error);
  if (sqlState === '42501') {
    const detail = descriptive ? `: ${(error).message}` : '';
    return new SourceError(
      `${context.subject}: the reader role may not read the segment${detail} (${conditionOf(sqlState)}); GRANT it SELECT on the source (see \`cli reader-sql\`)`,
      'permanent',
      sqlState,
    );
  }
  const kind: SourceErrorKind = PERMANENT_CLASSES.has(errorClass) ? 'permanent' : 'transient';
  if (descriptive) {
    return new SourceError(`${context.subject}: ${(error).message} (${conditionOf(sqlState)})`, kind, sqlState);
  }
  const what =
    errorClass === '22'
      ? 'a value in the segment does not fit the query'
      : errorClass === 'P0' || !(error instanceof Error) || !isServerWritten(error)
        ? "the segment's SQL raised an exception"
        : 'the warehouse could not run the query';
  return new SourceError(`${context.subject}: ${what} (${conditionOf(sqlState)}; the server's message is not shown, as it may quote row values)`, kind, sqlState);
}
