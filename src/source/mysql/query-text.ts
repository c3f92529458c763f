import { tokenizeWith } from '../../domain/tokenize.ts';

/**
 * A segment's SQL as MySQL and MariaDB lex it, as far as telling code from strings, quoted
 * identifiers and comments goes: enough to drop what follows its last statement (a `;`, a
 * comment) before it is put inside parentheses, and to say early that a text holds two
 * statements. The server's parser is the guard: a connection never allows more than one
 * statement, so anything this lexer gets wrong is refused there.
 */

type TokenKind = 'space' | 'comment' | 'semicolon' | 'code';

interface Token {
  kind: TokenKind;
  end: number;
}

const SPACE = /[ \t\n\r\f\v]/;

/** The end of a quoted run that doubles its quote and (for strings) takes backslash escapes; undefined when it is not closed. */
function endOfQuoted(sql: string, start: number, quote: string, backslash: boolean): number | undefined {
  let index = start + 1;
  while (index < sql.length) {
    const char = sql[index];
    if (backslash && char === '\\') {
      index += 2;
      continue;
    }
    if (char === quote) {
      if (sql[index + 1] === quote) {
        index += 2;
        continue;
      }
      return index + 1;
    }
    index += 1;
  }
  return undefined;
}

function endOfLine(sql: string, start: number): number {
  const newline = sql.indexOf('\n', start);
  return newline === -1 ? sql.length : newline + 1;
}

/** The token at `start`; undefined for an unterminated string, identifier or comment. */
function tokenAt(sql: string, start: number): Token | undefined {
  const char = sql[start] ?? '';
  const next = sql[start + 1];
  const token = (kind: TokenKind, end: number | undefined): Token | undefined => (end === undefined ? undefined : { kind, end });
  if (SPACE.test(char)) {
    let end = start + 1;
    while (end < sql.length && SPACE.test(sql[end] ?? '')) end += 1;
    return token('space', end);
  }
  if (char === '#') return token('comment', endOfLine(sql, start));
  // `--` opens a comment only when a space or a control character follows it.
  const third = sql.charCodeAt(start + 2);
  if (char === '-' && next === '-' && (third <= 0x20 || third === 0x7f)) return token('comment', endOfLine(sql, start));
  if (char === '/' && next === '*') {
    const close = sql.indexOf('*/', start + 2);
    // `/*!…*/` and `/*M!…*/` are code the server runs: never dropped as a comment.
    const executable = sql[start + 2] === '!' || (sql[start + 2] === 'M' && sql[start + 3] === '!');
    return token(executable ? 'code' : 'comment', close === -1 ? undefined : close + 2);
  }
  if (char === "'" || char === '"') return token('code', endOfQuoted(sql, start, char, true));
  if (char === '`') return token('code', endOfQuoted(sql, start, '`', false));
  if (char === ';') return token('semicolon', start + 1);
  let end = start + 1;
  while (end < sql.length && !/[\s#;'"`/-]/.test(sql[end] ?? '')) end += 1;
  return token('code', end);
}

function tokenize(sql: string): { tokens: Token[]; complete: boolean } {
  return tokenizeWith(sql, tokenAt);
}

/**
 * `sql` without trailing whitespace, comments and semicolons. A text with an unterminated string,
 * identifier or comment is returned as it is, for the server to refuse.
 */
export function trimMySqlStatement(sql: string): string {
  const { tokens, complete } = tokenize(sql);
  if (!complete) return sql;
  const last = tokens.findLastIndex((token) => token.kind === 'code');
  if (last === -1) return '';
  return sql.slice(0, tokens[last]?.end ?? sql.length);
}

/**
 * What a segment has no business doing, even where the server contains it: reading a server file
 * (LOAD_FILE reads NULL without the FILE privilege, which the access check refuses anyway),
 * writing one (INTO OUTFILE is a syntax error inside the product's parentheses), taking a named
 * lock (released when the read's session ends). Refusing them turns a segment that would read
 * NULLs or hold locks quietly into a run that fails at once, saying why.
 */
const FORBIDDEN: readonly { pattern: RegExp; what: string }[] = [
  { pattern: /\bload_file\s*\(/i, what: 'LOAD_FILE (reading a server file)' },
  { pattern: /\binto\s+(?:outfile|dumpfile)\b/i, what: 'INTO OUTFILE or DUMPFILE (writing a server file)' },
  { pattern: /\bload\s+(?:data|xml)\b/i, what: 'LOAD DATA or LOAD XML (reading a file)' },
  { pattern: /\b(?:get_lock|release_lock|release_all_locks|is_used_lock|is_free_lock)\s*\(/i, what: 'a named lock function (GET_LOCK and its kin)' },
];

/**
 * The first forbidden use (see FORBIDDEN) in the code of `sql`, strings, quoted identifiers and
 * comments left out, except executable comments (`/*! … *\/`), which the server runs.
 */
export function mySqlForbiddenUse(sql: string): string | undefined {
  const { tokens } = tokenize(sql);
  let start = 0;
  let code = '';
  for (const token of tokens) {
    const text = sql.slice(start, token.end);
    start = token.end;
    if (token.kind === 'code' && text.startsWith('/*')) code += ` ${text.replace(/^\/\*M?!\d{0,6}/, '').replace(/\*\/$/, '')} `;
    else if (token.kind === 'code' && !text.startsWith("'") && !text.startsWith('"') && !text.startsWith('`')) code += text;
    else code += ' ';
  }
  // An unterminated tail is the server's to refuse; it is searched too, so nothing slips past unread.
  code += sql.slice(start);
  return FORBIDDEN.find(({ pattern }) => pattern.test(code))?.what;
}

/** An early word on a query in MySQL's dialect, or undefined when it looks like one statement. */
export function mySqlQueryProblem(sql: string): string | undefined {
  const { tokens, complete } = tokenize(sql);
  if (!complete) return 'has an unterminated string, quoted identifier or comment';
  let ended = false;
  for (const token of tokens) {
    if (token.kind === 'semicolon') ended = true;
    else if (token.kind === 'code' && ended) return "must be a single statement: remove everything after the first ';'";
  }
  const forbidden = mySqlForbiddenUse(sql);
  return forbidden === undefined ? undefined : `uses ${forbidden}, which a segment may not`;
}
