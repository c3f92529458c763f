import type { ActivationConfig } from '../domain/index.ts';
import { PublicError } from '../domain/public-error.ts';

/**
 * What an operator is told when a warehouse cannot be read, and whether trying again can help:
 * the engine-neutral part. Each engine turns its own errors into a SourceError (its
 * `describeError`), from its error codes, and from its server's text only where that text is one
 * of a few known forms whose every variable part is a name the activation's own configuration
 * uses (see server-text.ts): personal data never enters a message in the first place.
 */

export type SourceErrorKind =
  /** the segment as configured cannot be read: fix the configuration, the SQL or the grants */
  | 'permanent'
  /** the warehouse is unreachable, restarting or overloaded: try again later */
  | 'transient';

/** What a permanent error is about, when an engine can tell: validate then says how to fix it. */
export type SourceProblem =
  /** the table, view, schema or files do not exist (validate suggests what does) */
  | 'missing-source'
  /** the reader may not read it (validate prints the grants) */
  | 'no-access';

export class SourceError extends PublicError {
  override readonly name = 'SourceError';
  constructor(
    message: string,
    readonly kind: SourceErrorKind,
    /** the engine's error code (a Postgres SQLSTATE, a MySQL error number) */
    readonly code?: string,
    readonly problem?: SourceProblem,
  ) {
    super(message);
  }

}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);

/**
 * The reader's queries name the source `src`, so a server's `column src.emial does not exist`
 * names it too.
 */
const SOURCE_ALIAS = 'src';

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
    ...(source.kind === 'table' || source.kind === 'view' ? [source.schema, source.name] : []),
    ...(source.kind === 'files' ? [source.path] : []),
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

/** Said where a server's message is withheld. */
export const WITHHELD = "the server's message is not shown, as it may quote row values";

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

/**
 * The warehouse connection may do more than read what it was granted (found at start, at validate
 * and apply, or before a read: a grant made since). Each engine's check throws one of these.
 */
export class AccessRefused extends PublicError {
  override readonly name: string = 'AccessRefused';
  constructor(
    message: string,
    readonly problems: readonly string[],
    /** one line: the problems and where to find the fix, for a run's reason */
    readonly summary: string,
  ) {
    super(message);
  }
}

function networkCodeOf(error: unknown): string | undefined {
  if (!(error instanceof Error) || !('code' in error) || typeof error.code !== 'string') return undefined;
  return NETWORK_CODES.has(error.code) ? error.code : undefined;
}

/**
 * What every engine says alike: the product's own errors (a limit, a silent server, a role that
 * may do too much) and a warehouse out of reach. Undefined for an engine's own error.
 */
export function commonSourceError(error: unknown, context: SourceErrorContext): SourceError | undefined {
  if (error instanceof SourceError) return error;
  if (error instanceof ReadStopped) return new SourceError(`${context.subject}: ${error.message}`, error.kind);
  if (error instanceof AccessRefused) return new SourceError(`${context.subject}: ${error.summary}`, 'permanent');
  const urlVariable = context.urlVariable ?? 'WAREHOUSE_DATABASE_URL';
  const network = networkCodeOf(error);
  if (network) return new SourceError(`${context.subject}: cannot reach the warehouse (${network}); check ${urlVariable} and that the server is up`, 'transient');
  return undefined;
}

/** An error of no known form: named by its type, never by its message. */
export function unexpectedSourceError(error: unknown, context: SourceErrorContext): SourceError {
  const type = error instanceof Error ? error.name : typeof error;
  return new SourceError(`${context.subject}: the segment could not be read (unexpected ${type})`, 'transient');
}

