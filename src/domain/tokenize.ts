/**
 * Splits `sql` into the tokens a dialect's `tokenAt` reads, one after another. `complete` is false
 * when a token could not be read (an unterminated string, quoted identifier or comment); the tokens
 * then stop before it.
 */
export function tokenizeWith<T extends { end: number }>(sql: string, tokenAt: (sql: string, start: number) => T | undefined): { tokens: T[]; complete: boolean } {
  const tokens: T[] = [];
  let index = 0;
  while (index < sql.length) {
    const token = tokenAt(sql, index);
    if (token === undefined) return { tokens, complete: false };
    tokens.push(token);
    index = token.end;
  }
  return { tokens, complete: true };
}
