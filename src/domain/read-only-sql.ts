import { tokenizeWith } from './tokenize.ts';

/*
 * A first, friendly line of defence for activation queries: it explains the mistake at
 * configuration time. It is not the security boundary; the source reader runs every
 * query inside a READ ONLY transaction, which Postgres itself enforces.
 *
 * Its lexer follows Postgres' own (src/backend/parser/scan.l) wherever a statement boundary
 * depends on it; where the two could disagree, it errs towards seeing more code, so that it may
 * refuse a query Postgres would accept, never miss a statement Postgres would run.
 */

const FORBIDDEN_LEADING_KEYWORDS = new Set([
  'INSERT', 'UPDATE', 'DELETE', 'MERGE', 'UPSERT', 'DROP', 'ALTER', 'CREATE', 'TRUNCATE', 'GRANT', 'REVOKE',
  'COPY', 'VACUUM', 'ANALYZE', 'REINDEX', 'CLUSTER', 'REFRESH', 'CALL', 'DO', 'EXECUTE', 'PREPARE', 'LOCK',
  'COMMENT', 'SECURITY', 'SET', 'RESET', 'DISCARD', 'LISTEN', 'NOTIFY', 'UNLISTEN', 'LOAD', 'IMPORT',
  'BEGIN', 'START', 'COMMIT', 'ROLLBACK', 'SAVEPOINT', 'RELEASE', 'ABORT', 'END', 'CHECKPOINT', 'REASSIGN',
  'EXPLAIN',
]);

/**
 * Keywords that make an otherwise SELECT/WITH statement write: data-modifying CTEs
 * (`WITH x AS (DELETE ... RETURNING *)`), `SELECT ... INTO new_table`, `FOR UPDATE` locks.
 * Matched as whole words outside strings, comments and quoted identifiers.
 */
const FORBIDDEN_INNER_KEYWORDS = /\b(INSERT|UPDATE|DELETE|MERGE|TRUNCATE|DROP|ALTER|CREATE|GRANT|REVOKE|COPY|INTO)\b/i;
const READ_KEYWORDS = new Set(['SELECT', 'WITH']);

/** Returns why `sql` is not a single read-only SELECT/WITH statement, or undefined when it is. */
export function findReadOnlySqlProblem(sql: string): string | undefined {
  const { tokens, complete } = tokenize(sql);
  if (!complete) return 'has an unterminated string, quoted identifier or comment';

  // Trailing semicolons and comments are not a second statement (see normalizeSegmentSql).
  const statement = blankOutLiteralsAndComments(sql, tokens.slice(0, lastCodeToken(sql, tokens) + 1)).trim();
  if (statement === '') return 'is empty: provide a SELECT or WITH statement';
  if (statement.includes(';')) return "must be a single statement: remove everything after the first ';'";

  const firstKeyword = /^[(\s]*([A-Za-z]+)/.exec(statement)?.[1]?.toUpperCase();
  if (firstKeyword === undefined || !READ_KEYWORDS.has(firstKeyword)) {
    if (firstKeyword !== undefined && FORBIDDEN_LEADING_KEYWORDS.has(firstKeyword)) {
      return `must be read-only: ${firstKeyword} statements are not allowed; use SELECT or WITH`;
    }
    return 'must start with SELECT or WITH';
  }

  const inner = FORBIDDEN_INNER_KEYWORDS.exec(statement)?.[1]?.toUpperCase();
  if (inner === 'INTO') return 'must be read-only: SELECT ... INTO creates a table';
  if (inner !== undefined) return `must be read-only: ${inner} is not allowed in the query`;
  return undefined;
}

/**
 * The check every segment query gets when it is configured, whatever its warehouse's dialect: it
 * must start with SELECT or WITH (after comments and parentheses). MySQL and DuckDB strings and
 * comments differ from Postgres' (backslash escapes, `#` comments), so the rest is each engine's:
 * Postgres' friendly check is findReadOnlySqlProblem, and every engine's server is the guard.
 */
export function findQueryStartProblem(sql: string): string | undefined {
  const { tokens } = tokenize(sql);
  const first = tokens.find((token) => token.kind !== 'space' && token.kind !== 'comment' && !(token.kind === 'other' && sql[token.start] === '('));
  if (first === undefined) return sql.trim() === '' || tokens.length > 0 ? 'is empty: provide a SELECT or WITH statement' : 'must start with SELECT or WITH';
  const leading = first.kind === 'identifier' ? sql.slice(first.start, first.end).toUpperCase() : undefined;
  if (leading !== undefined && READ_KEYWORDS.has(leading)) return undefined;
  if (leading !== undefined && FORBIDDEN_LEADING_KEYWORDS.has(leading)) return `must be read-only: ${leading} statements are not allowed; use SELECT or WITH`;
  return 'must start with SELECT or WITH';
}

/**
 * `sql` without what follows its last statement: trailing whitespace, comments and semicolons,
 * however they alternate (`select 1; -- done`, a newline, `;` and a block comment). Anything up to
 * the end of the last statement's code is kept as it is. A query with an unterminated string,
 * quoted identifier or comment is returned unchanged, for the server to report.
 */
export function normalizeSegmentSql(sql: string): string {
  const { tokens, complete } = tokenize(sql);
  if (!complete) return sql;
  const last = tokens[lastCodeToken(sql, tokens)];
  if (last === undefined) return '';
  return last.end === sql.length ? sql : sql.slice(0, last.end);
}

/**
 * The names `sql` mentions, as Postgres reads them: unquoted identifiers folded to lower case
 * (keywords left out, as they are mostly not names), and the text of quoted identifiers. String
 * constants, comments and numbers name nothing.
 */
export function sqlNames(sql: string): string[] {
  const names: string[] = [];
  for (const token of tokenize(sql).tokens) {
    const text = sql.slice(token.start, token.end);
    if (token.kind === 'identifier') {
      const folded = text.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
      if (!isSqlKeyword(folded)) names.push(folded);
    } else if (token.kind === 'quoted_identifier') {
      const body = text.startsWith('"') ? text.slice(1, -1) : text.slice(3, -1); // "x" or U&"x"
      names.push(body.replaceAll('""', '"'));
    }
  }
  return names;
}

/** Whether `word` is a Postgres keyword of any category, reserved or not (compared case-insensitively). */
export function isSqlKeyword(word: string): boolean {
  return KEYWORDS.has(word.toLowerCase());
}

/** The keywords of Postgres 14 to 18 (`select word from pg_get_keywords()`), every category. */
const KEYWORDS: ReadonlySet<string> = new Set(
  `
  abort absent absolute access action add admin after aggregate all also alter always analyse analyze and any
  array as asc asensitive assertion assignment asymmetric at atomic attach attribute authorization backward
  before begin between bigint binary bit boolean both breadth by cache call called cascade cascaded case cast
  catalog chain char character characteristics check checkpoint class close cluster coalesce collate collation
  column columns comment comments commit committed compression concurrently conditional configuration conflict
  connection constraint constraints content continue conversion copy cost create cross csv cube current
  current_catalog current_date current_role current_schema current_time current_timestamp current_user cursor
  cycle data database day deallocate dec decimal declare default defaults deferrable deferred definer delete
  delimiter delimiters depends depth desc detach dictionary disable discard distinct do document domain double
  drop each else empty enable encoding encrypted end enforced enum error escape event except exclude excluding
  exclusive execute exists explain expression extension external extract false family fetch filter finalize first
  float following for force foreign format forward freeze from full function functions generated global grant
  granted greatest group grouping groups handler having header hold hour identity if ilike immediate immutable
  implicit import in include including increment indent index indexes inherit inherits initially inline inner
  inout input insensitive insert instead int integer intersect interval into invoker is isnull isolation join
  json json_array json_arrayagg json_exists json_object json_objectagg json_query json_scalar json_serialize
  json_table json_value keep key keys label language large last lateral leading leakproof least left level like
  limit listen load local localtime localtimestamp location lock locked logged mapping match matched materialized
  maxvalue merge merge_action method minute minvalue mode month move name names national natural nchar nested new
  next nfc nfd nfkc nfkd no none normalize normalized not nothing notify notnull nowait null nullif nulls numeric
  object objects of off offset oids old omit on only operator option options or order ordinality others out outer
  over overlaps overlay overriding owned owner parallel parameter parser partial partition passing password path
  period placing plan plans policy position preceding precision prepare prepared preserve primary prior
  privileges procedural procedure procedures program publication quote quotes range read real reassign recheck
  recursive ref references referencing refresh reindex relative release rename repeatable replace replica reset
  restart restrict return returning returns revoke right role rollback rollup routine routines row rows rule
  savepoint scalar schema schemas scroll search second security select sequence sequences serializable server
  session session_user set setof sets share show similar simple skip smallint snapshot some source sql stable
  standalone start statement statistics stdin stdout storage stored strict string strip subscription substring
  support symmetric sysid system system_user table tables tablesample tablespace target temp template temporary
  text then ties time timestamp to trailing transaction transform treat trigger trim true truncate trusted type
  types uescape unbounded uncommitted unconditional unencrypted union unique unknown unlisten unlogged until
  update user using vacuum valid validate validator value values varchar variadic varying verbose version view
  views virtual volatile when where whitespace window with within without work wrapper write xml xmlattributes
  xmlconcat xmlelement xmlexists xmlforest xmlnamespaces xmlparse xmlpi xmlroot xmlserialize xmltable year yes
  zone
`.split(/\s+/).filter((word) => word !== ''),
);

type TokenKind = 'space' | 'comment' | 'string' | 'quoted_identifier' | 'identifier' | 'number' | 'parameter' | 'other';

interface Token {
  kind: TokenKind;
  start: number;
  end: number;
}

/** scan.l's `space`. */
const SPACE = /[ \t\n\r\f\v]/;
/**
 * Postgres takes every byte of a multibyte character (>= 0x80) for a letter; in a JavaScript
 * string that is every code unit from U+0080 up.
 */
const isIdentifierStart = (char: string | undefined): boolean => char !== undefined && (/[A-Za-z_]/.test(char) || char >= '\u0080');
/** Digits and `$` continue an identifier. */
const isIdentifierChar = (char: string | undefined): boolean => char !== undefined && (/[A-Za-z0-9_$]/.test(char) || char >= '\u0080');
/** scan.l's `dolqdelim`: `$$` or `$tag$`, the tag made of identifier characters, not starting with a digit. */
const DOLLAR_QUOTE_DELIMITER = /\$(?:[A-Za-z_\u0080-\uFFFF][A-Za-z0-9_\u0080-\uFFFF]*)?\$/y;

/**
 * Splits `sql` into tokens the way Postgres' lexer does, as far as telling code from strings,
 * quoted identifiers and comments goes. `complete` is false when one of those is not closed; the
 * tokens then stop before it.
 */
function tokenize(sql: string): { tokens: Token[]; complete: boolean } {
  return tokenizeWith(sql, tokenAt);
}

/** The token starting at `start`, undefined when it is an unterminated string, quoted identifier or comment. */
function tokenAt(sql: string, start: number): Token | undefined {
  const char = sql[start] ?? '';
  const next = sql[start + 1];
  const token = (kind: TokenKind, end: number | undefined): Token | undefined => (end === undefined ? undefined : { kind, start, end });
  if (SPACE.test(char)) return token('space', endOfRun(sql, start, (c) => c !== undefined && SPACE.test(c)));
  // A comment starts at `--` or `/*` anywhere outside a literal, even inside an operator.
  if (char === '-' && next === '-') return token('comment', endOfLineComment(sql, start));
  if (char === '/' && next === '*') return token('comment', endOfBlockComment(sql, start));
  if (char === "'") return token('string', endOfQuoted(sql, start, "'", false));
  if (char === '"') return token('quoted_identifier', endOfQuoted(sql, start, '"', false));
  // The prefixes count only where a token starts: `abcE'x'` is the identifier abcE and a plain string.
  if ((char === 'e' || char === 'E') && next === "'") return token('string', endOfQuoted(sql, start + 1, "'", true));
  if (/[bBxXnN]/.test(char) && next === "'") return token('string', endOfQuoted(sql, start + 1, "'", false));
  if ((char === 'u' || char === 'U') && next === '&' && (sql[start + 2] === "'" || sql[start + 2] === '"')) {
    const quote = sql[start + 2] ?? '';
    return token(quote === "'" ? 'string' : 'quoted_identifier', endOfQuoted(sql, start + 2, quote, false));
  }
  if (char === '$') {
    if (next !== undefined && /[0-9]/.test(next)) return token('parameter', endOfRun(sql, start + 1, (c) => c !== undefined && /[0-9]/.test(c)));
    DOLLAR_QUOTE_DELIMITER.lastIndex = start;
    const delimiter = DOLLAR_QUOTE_DELIMITER.exec(sql)?.[0];
    if (delimiter === undefined) return token('other', start + 1);
    const close = sql.indexOf(delimiter, start + delimiter.length);
    return token('string', close === -1 ? undefined : close + delimiter.length);
  }
  if (isIdentifierStart(char)) return token('identifier', endOfRun(sql, start, isIdentifierChar));
  // A number takes the identifier characters after it, so `1$q$` starts no dollar quote here though
  // Postgres would see one: this errs towards code, see the file's comment.
  if (/[0-9]/.test(char)) return token('number', endOfRun(sql, start, (c) => c === '.' || isIdentifierChar(c)));
  return token('other', start + 1);
}

function endOfRun(sql: string, start: number, belongs: (char: string | undefined) => boolean): number {
  let index = start;
  while (index < sql.length && belongs(sql[index])) index += 1;
  return index;
}

/** scan.l's `comment`: `--` up to, not including, a newline or a carriage return. */
function endOfLineComment(sql: string, start: number): number {
  return endOfRun(sql, start, (char) => char !== '\n' && char !== '\r');
}

function endOfBlockComment(sql: string, start: number): number | undefined {
  // Postgres block comments nest.
  let depth = 0;
  let index = start;
  while (index < sql.length) {
    if (sql.startsWith('/*', index)) {
      depth += 1;
      index += 2;
    } else if (sql.startsWith('*/', index)) {
      depth -= 1;
      index += 2;
      if (depth === 0) return index;
    } else {
      index += 1;
    }
  }
  return undefined;
}

/** Index just past the quoted text whose opening quote is at `start`, undefined when it is not closed. */
function endOfQuoted(sql: string, start: number, quote: string, backslashEscapes: boolean): number | undefined {
  let index = start + 1;
  while (index < sql.length) {
    const char = sql[index];
    if (backslashEscapes && char === '\\') {
      index += 2;
    } else if (char === quote) {
      if (sql[index + 1] !== quote) return index + 1;
      index += 2; // a doubled quote is an escaped quote
    } else {
      index += 1;
    }
  }
  return undefined;
}

/** Index of the last token that is code, not whitespace, a comment or a `;`; -1 when there is none. */
function lastCodeToken(sql: string, tokens: readonly Token[]): number {
  for (let index = tokens.length - 1; index >= 0; index -= 1) {
    const token = tokens[index];
    if (token === undefined || token.kind === 'space' || token.kind === 'comment') continue;
    if (token.kind === 'other' && sql[token.start] === ';') continue;
    return index;
  }
  return -1;
}

/**
 * The code of `tokens` with string constants, quoted identifiers, dollar-quoted bodies and
 * comments each replaced by a space, so that a ';' or a keyword inside them is not mistaken for
 * code.
 */
function blankOutLiteralsAndComments(sql: string, tokens: readonly Token[]): string {
  let out = '';
  for (const token of tokens) {
    out += token.kind === 'string' || token.kind === 'quoted_identifier' || token.kind === 'comment' ? ' ' : sql.slice(token.start, token.end);
  }
  return out;
}
