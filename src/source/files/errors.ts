import { commonSourceError, SourceError, unexpectedSourceError, WITHHELD, type SourceErrorContext, type SourceErrorKind, type SourceProblem } from '../errors.ts';
import { configuredName, serverText, showableServerText, type CaptureCheck, type ServerText } from '../server-text.ts';
import { FilesUrlError, relativeToRoot, type FilesRoot } from './location.ts';

/**
 * DuckDB's errors as the product's. DuckDB names an error by its type (`Binder Error: …`), and
 * its text is shown only in the forms listed here, whose every variable part is a name or a path
 * the activation's own configuration holds; anything else is a fixed text with the error's type.
 * A conversion error, a CSV line that does not parse or a function fed a row's value quote that
 * value, so none of them is ever shown.
 */

/** A name the configuration uses: one of its identifiers, or a word of its query. */
const configuredWord: CaptureCheck = (capture, names) => configuredName(capture, names) || names.has(capture.toLowerCase());

function pathCheck(root: FilesRoot, configText: string | undefined): CaptureCheck {
  return (capture) => {
    const relative = relativeToRoot(root, capture);
    const folder = relative.includes('/') ? relative.slice(0, relative.lastIndexOf('/')) : undefined;
    // A file of a configured folder is named as the configuration names its folder.
    return relative !== '' && ((configText ?? '').includes(relative) || (folder !== undefined && capture.startsWith(root.uri) && (configText ?? '').includes(folder)));
  };
}

function formsFor(root: FilesRoot, configText: string | undefined): Record<string, readonly ServerText[]> {
  const path = pathCheck(root, configText);
  return {
    Catalog: [
      serverText(/^(?:Table|Scalar|Aggregate|Table Macro|Macro) Function with name (\S+) does not exist!$/, configuredWord),
      serverText(/^Table with name (\S+) does not exist!$/, configuredWord),
      serverText(/^Type with name (\S+) does not exist!$/, configuredWord),
    ],
    Binder: [
      serverText(/^Referenced column "([^"]+)" not found in FROM clause!$/, configuredWord),
      serverText(/^Referenced table "([^"]+)" not found!$/, configuredWord),
      serverText(/^Ambiguous reference to column name "([^"]+)".*$/, configuredWord),
      serverText(/^COLUMN_TYPES error: Columns with names: "([^"]+)" do not exist in the CSV File$/, configuredWord),
    ],
    Parser: [
      serverText(/^syntax error at or near "([^"]+)"$/, configuredWord),
      serverText(/^syntax error at end of input$/),
      serverText(/^Expected a single SELECT statement$/),
    ],
    'Invalid Input': [serverText(/^Cannot prepare multiple statements at once!$/), serverText(/^Error when sniffing file "([^"]+)"\.$/, path)],
    'Not implemented': [serverText(/^A CTE needs a SELECT$/)],
    IO: [
      serverText(/^No files found that match the pattern "([^"]+)"$/, path),
      serverText(/^Cannot open file "([^"]+)": No such file or directory$/, path),
    ],
    Permission: [serverText(/^Cannot access (?:file|directory) "([^"]+)" - file system operations are disabled by configuration$/, path)],
  };
}

const PERMANENT_TYPES = new Set([
  'Parser', 'Binder', 'Catalog', 'Conversion', 'Invalid Input', 'Not implemented', 'Permission', 'Out of Range',
  'Syntax', 'Dependency', 'Constraint', 'Invalid type', 'Mismatch Type', 'Invalid Configuration', 'Out of Memory',
]);

/** `Binder Error: …` → its type and its first line, without the query excerpt DuckDB appends. */
export function duckDbMessage(error: unknown): { type: string; text: string } | undefined {
  if (!(error instanceof Error)) return undefined;
  const match = /^([A-Za-z][A-Za-z ]*?) Error: ([^\n]*)/.exec(error.message);
  return match ? { type: match[1] ?? '', text: (match[2] ?? '').trim() } : undefined;
}

/** DuckDB's own fixed sentence for a CSV that is not UTF-8 (no row value in it). */
const NOT_UTF8 = /^Invalid unicode \(byte sequence mismatch\) detected\. This file is not utf-8 encoded\.$/m;

function withheld(type: string, text: string, whole: string): string {
  if (type === 'Invalid Input' && /^CSV Error on Line: (\d+)/.test(text) && NOT_UTF8.test(whole)) {
    return `line ${/^CSV Error on Line: (\d+)/.exec(text)?.[1]} of a CSV file is not UTF-8: set the source's csv.encoding ('latin-1' or 'utf-16')`;
  }
  if (type === 'Conversion') return 'a value in the files does not fit its type (a CSV column whose values do not all read as the type detected from the first rows, or a cast in the query)';
  if (type === 'Invalid Input' && /^CSV Error on Line: (\d+)/.test(text)) {
    return `line ${/^CSV Error on Line: (\d+)/.exec(text)?.[1]} of a CSV file does not parse with its detected or configured options (delimiter, quote, header, encoding, number of columns)`;
  }
  if (type === 'Invalid Input' && /^Error when sniffing file/.test(text)) return 'the dialect of a CSV file could not be detected: set the source\'s csv options (delimiter, quote, header, encoding)';
  if (type === 'Out of Memory') return "the query needs more memory than a read may take: narrow it (fewer columns, a cursor, no large sort or aggregate)";
  if (type === 'Permission') return "the query reads outside the warehouse's root or asks for what a segment may not do (files are read only under the root)";
  if (type === 'Parser') return 'the query has a syntax error';
  return 'DuckDB could not run the query';
}

/** HTTP status of an object storage error, when it says one. */
function httpStatus(text: string): number | undefined {
  const status = /\b(?:HTTP|status(?: code)?)\s*[:=]?\s*(\d{3})\b/i.exec(text)?.[1];
  return status === undefined ? undefined : Number(status);
}

export function describeFilesError(error: unknown, context: SourceErrorContext, root: FilesRoot, urlVariable: string): SourceError {
  const common = commonSourceError(error, { urlVariable, ...context });
  if (common) {
    if (/statement timeout/.test(common.message) && common.kind === 'permanent') {
      const limit = context.statementTimeout ? ` of ${context.statementTimeout}` : '';
      return new SourceError(
        `${context.subject}: reading the files took longer than its statement timeout${limit}; narrow the query or the files (a cursor, fewer files), or raise the activation's statementTimeout`,
        'permanent',
      );
    }
    return withProblem(common, error);
  }
  if (error instanceof FilesUrlError) return new SourceError(`${context.subject}: ${error.message}`, 'permanent');
  const message = duckDbMessage(error);
  if (message === undefined) return unexpectedSourceError(error, context);
  const { type, text } = message;
  const label = `DuckDB ${type} Error`;
  if (type === 'HTTP' || (type === 'IO' && httpStatus(text) !== undefined)) {
    const status = httpStatus(text);
    if (status === 403 || status === 401) {
      return new SourceError(`${context.subject}: object storage refused the read (HTTP ${status}): check ${urlVariable}'s credentials and that they may list and get objects under ${root.uri}`, 'permanent', label, 'no-access');
    }
    if (status === 404) return new SourceError(`${context.subject}: object storage has no such bucket or object (HTTP 404) under ${root.uri}`, 'permanent', label, 'missing-source');
    return new SourceError(`${context.subject}: object storage could not be read (${status === undefined ? label : `HTTP ${status}`}); check ${urlVariable} and that the service is up`, 'transient', label);
  }
  const shown = showableServerText(formsFor(root, context.configText)[type], text, context.configText);
  const problem: SourceProblem | undefined =
    type === 'IO' && /^(No files found|Cannot open file)/.test(text) ? 'missing-source' : type === 'Catalog' && /^Table with name/.test(text) ? 'missing-source' : undefined;
  const kind: SourceErrorKind = PERMANENT_TYPES.has(type) || problem !== undefined ? 'permanent' : 'transient';
  if (shown !== undefined) {
    // Paths are shown as the configuration writes them, relative to the root.
    const hint = /^Error when sniffing file/.test(text) ? ': its dialect could not be detected; set the source\'s csv options (delimiter, quote, header, encoding)' : '';
    return new SourceError(`${context.subject}: ${shown.split(root.uri).join('')}${hint} (${label})`, kind, label, problem);
  }
  return new SourceError(`${context.subject}: ${withheld(type, text, error instanceof Error ? error.message : '')} (${label}; ${WITHHELD})`, kind, label, problem);
}

/** Problems the engine found itself (no file at the path) carry what validate should do about them. */
function withProblem(described: SourceError, error: unknown): SourceError {
  if (error instanceof Error && error.name === 'FilesNotFound') return new SourceError(described.message, described.kind, described.code, 'missing-source');
  return described;
}

