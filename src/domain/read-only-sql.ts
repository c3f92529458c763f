/*
 * A first, friendly line of defence for activation queries: it explains the mistake at
 * configuration time. It is not the security boundary; the source reader runs every
 * query inside a READ ONLY transaction, which Postgres itself enforces.
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
  const code = blankOutLiteralsAndComments(sql);
  if (code === undefined) return 'has an unterminated string, quoted identifier or comment';

  const statement = code.trim().replace(/;\s*$/, '').trim();
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
 * Replaces string literals, quoted identifiers, dollar-quoted bodies and comments by
 * spaces, so that a ';' or a keyword inside them is not mistaken for code. Returns
 * undefined when one of them is not closed.
 */
function blankOutLiteralsAndComments(sql: string): string | undefined {
  let out = '';
  let index = 0;
  while (index < sql.length) {
    const end = endOfLiteralOrComment(sql, index);
    if (end === undefined) return undefined;
    if (end === index) {
      out += sql[index];
      index += 1;
    } else {
      out += ' ';
      index = end;
    }
  }
  return out;
}

/** Index just past the literal or comment starting at `start`, `start` when none starts there, undefined when unterminated. */
function endOfLiteralOrComment(sql: string, start: number): number | undefined {
  const char = sql[start];
  const next = sql[start + 1];
  const previous = start > 0 ? (sql[start - 1] ?? '') : '';
  if (char === '-' && next === '-') {
    const newline = sql.indexOf('\n', start);
    return newline === -1 ? sql.length : newline;
  }
  if (char === '/' && next === '*') return endOfBlockComment(sql, start);
  if (char === "'") {
    const beforePrefix = start > 1 ? (sql[start - 2] ?? '') : '';
    const escapeString = /[eE]/.test(previous) && !/[\w$]/.test(beforePrefix);
    return endOfQuoted(sql, start, "'", escapeString);
  }
  if (char === '"') return endOfQuoted(sql, start, '"', false);
  if (char === '$' && !/[\w$]/.test(previous)) {
    const tag = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(start))?.[0];
    if (tag === undefined) return start;
    const close = sql.indexOf(tag, start + tag.length);
    return close === -1 ? undefined : close + tag.length;
  }
  return start;
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
