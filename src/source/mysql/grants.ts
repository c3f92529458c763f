/**
 * The lines of `SHOW GRANTS` as MySQL 8 and MariaDB 10.5+ print them, read into what they grant:
 * privileges on an object, roles, or a proxy. Lines can hold a password hash (`IDENTIFIED BY
 * PASSWORD '…'`): nothing after the grantee is ever kept.
 */

interface Token {
  type: 'id' | 'string' | 'word' | 'punct';
  /** unquoted */
  value: string;
}

export interface GrantObject {
  /** FUNCTION, PROCEDURE, PACKAGE, PACKAGE BODY, or TABLE/undefined for tables and databases */
  routine: string | undefined;
  /** `*` for every database */
  database: string;
  /** `*` for every table of the database */
  table: string;
}

export type Grant =
  | { kind: 'privileges'; privileges: string[]; object: GrantObject; grantee: Account; grantOption: boolean }
  | { kind: 'roles'; roles: Account[]; grantee: Account; adminOption: boolean }
  | { kind: 'proxy'; target: Account; grantee: Account }
  /** SET DEFAULT ROLE, partial revokes: nothing granted */
  | { kind: 'none' }
  /** a line this parser does not follow; `head` is the text before the grantee */
  | { kind: 'unreadable'; head: string };

/** A user (`name@host`) or a role (`name`, or `name@host` on MySQL 8). */
export interface Account {
  name: string;
  host: string | undefined;
}

function tokenize(line: string): Token[] | undefined {
  const tokens: Token[] = [];
  let index = 0;
  while (index < line.length) {
    const char = line[index] ?? '';
    if (/\s/.test(char)) {
      index += 1;
    } else if (char === '`' || char === "'" || char === '"') {
      let value = '';
      let end = index + 1;
      for (;;) {
        const close = line.indexOf(char, end);
        if (close === -1) return undefined;
        value += line.slice(end, close);
        if (line[close + 1] === char) {
          value += char;
          end = close + 2;
          continue;
        }
        end = close + 1;
        break;
      }
      tokens.push({ type: char === '`' ? 'id' : 'string', value: char === '`' ? value : value.replace(/\\(.)/g, '$1') });
      index = end;
    } else if (/[A-Za-z0-9_$]/.test(char)) {
      const match = /^[A-Za-z0-9_$]+/.exec(line.slice(index))?.[0] ?? char;
      tokens.push({ type: 'word', value: match.toUpperCase() });
      index += match.length;
    } else {
      tokens.push({ type: 'punct', value: char });
      index += 1;
    }
  }
  return tokens;
}

const isWord = (token: Token | undefined, word: string) => token?.type === 'word' && token.value === word;

/** Splits tokens at top-level commas (outside parentheses). */
function splitList(tokens: readonly Token[]): Token[][] {
  const items: Token[][] = [[]];
  let depth = 0;
  for (const token of tokens) {
    if (token.type === 'punct' && token.value === '(') depth += 1;
    if (token.type === 'punct' && token.value === ')') depth -= 1;
    if (depth === 0 && token.type === 'punct' && token.value === ',') items.push([]);
    else items[items.length - 1]?.push(token);
  }
  return items.filter((item) => item.length > 0);
}

/** `a`@`b`, 'a'@'b', a@b or `r`; the tokens it took. */
function accountAt(tokens: readonly Token[], start: number): { account: Account; end: number } | undefined {
  const name = tokens[start];
  if (name === undefined || name.type === 'punct') return undefined;
  if (tokens[start + 1]?.value === '@' && tokens[start + 1]?.type === 'punct') {
    const host = tokens[start + 2];
    if (host === undefined || host.type === 'punct') return undefined;
    return { account: { name: name.value, host: host.value }, end: start + 3 };
  }
  return { account: { name: name.value, host: undefined }, end: start + 1 };
}

const ROUTINES = new Set(['FUNCTION', 'PROCEDURE', 'PACKAGE', 'TABLE']);

function objectAt(tokens: readonly Token[]): GrantObject | undefined {
  let index = 0;
  let routine: string | undefined;
  if (ROUTINES.has(tokens[0]?.value ?? '') && tokens[0]?.type === 'word' && tokens.length > 1) {
    routine = tokens[0]?.value;
    index = 1;
    if (routine === 'PACKAGE' && isWord(tokens[1], 'BODY')) {
      routine = 'PACKAGE BODY';
      index = 2;
    }
  }
  const part = (token: Token | undefined) => (token === undefined ? undefined : token.type === 'punct' ? (token.value === '*' ? '*' : undefined) : token.value);
  const first = part(tokens[index]);
  if (first === undefined) return undefined;
  if (tokens[index + 1]?.value !== '.') return index + 1 === tokens.length ? { routine: routine === 'TABLE' ? undefined : routine, database: '?', table: first } : undefined;
  const second = part(tokens[index + 2]);
  if (second === undefined || index + 3 !== tokens.length) return undefined;
  return { routine: routine === 'TABLE' ? undefined : routine, database: first, table: second };
}

/** The privilege names of a list, without their column lists: `SELECT (a, b)` is SELECT. */
function privilegesOf(tokens: readonly Token[]): string[] | undefined {
  const names: string[] = [];
  for (const item of splitList(tokens)) {
    const words: string[] = [];
    for (const token of item) {
      if (token.type === 'punct' && token.value === '(') break;
      if (token.type !== 'word') return undefined;
      words.push(token.value);
    }
    if (words.length === 0) return undefined;
    names.push(words.join(' '));
  }
  return names.length > 0 ? names : undefined;
}

/** One line of SHOW GRANTS. */
export function parseGrant(line: string): Grant {
  const trimmed = line.trim();
  const toAt = trimmed.search(/\sTO\s/i);
  const head = (toAt === -1 ? trimmed : trimmed.slice(0, toAt)).slice(0, 200);
  if (/^(SET|REVOKE)\s/i.test(trimmed)) return { kind: 'none' };
  const tokens = tokenize(trimmed);
  if (tokens === undefined || !isWord(tokens[0], 'GRANT')) return { kind: 'unreadable', head };
  let depth = 0;
  let on = -1;
  let to = -1;
  tokens.forEach((token, index) => {
    if (token.type === 'punct' && token.value === '(') depth += 1;
    if (token.type === 'punct' && token.value === ')') depth -= 1;
    if (depth === 0 && on === -1 && to === -1 && isWord(token, 'ON')) on = index;
    if (depth === 0 && to === -1 && isWord(token, 'TO')) to = index;
  });
  if (to === -1) return { kind: 'unreadable', head };
  const grantee = accountAt(tokens, to + 1);
  if (grantee === undefined) return { kind: 'unreadable', head };
  const rest = tokens.slice(grantee.end);
  const withOption = (option: string) => rest.some((token, index) => isWord(token, 'WITH') && isWord(rest[index + 1], option) && isWord(rest[index + 2], 'OPTION'));
  if (on === -1) {
    const roles = splitList(tokens.slice(1, to)).map((item) => (item.length === 1 || item.length === 3 ? accountAt(item, 0)?.account : undefined));
    if (roles.length === 0 || roles.some((role) => role === undefined)) return { kind: 'unreadable', head };
    return { kind: 'roles', roles: roles as Account[], grantee: grantee.account, adminOption: withOption('ADMIN') };
  }
  const privileges = privilegesOf(tokens.slice(1, on));
  if (privileges === undefined) return { kind: 'unreadable', head };
  if (privileges.length === 1 && privileges[0] === 'PROXY') {
    const target = accountAt(tokens, on + 1);
    if (target === undefined) return { kind: 'unreadable', head };
    return { kind: 'proxy', target: target.account, grantee: grantee.account };
  }
  const object = objectAt(tokens.slice(on + 1, to));
  if (object === undefined) return { kind: 'unreadable', head };
  return { kind: 'privileges', privileges, object, grantee: grantee.account, grantOption: withOption('GRANT') };
}

/** An account as MySQL prints it in a statement: `name`@`host`, or `name` for a MariaDB role. */
export function accountText(account: Account): string {
  const quote = (text: string) => `\`${text.replaceAll('`', '``')}\``;
  return account.host === undefined ? quote(account.name) : `${quote(account.name)}@${quote(account.host)}`;
}

export function objectText(object: GrantObject): string {
  const part = (name: string) => (name === '*' ? '*' : `\`${name.replaceAll('`', '``')}\``);
  const target = object.database === '?' ? part(object.table) : `${part(object.database)}.${part(object.table)}`;
  return object.routine === undefined ? target : `${object.routine} ${target}`;
}

/**
 * Whether a database name of a GRANT can stand for `name`: at the database level `%` and `_`
 * are wildcards (`\_` a literal underscore), so `` `%`.* `` covers the `mysql` schema too.
 */
export function databaseCovers(pattern: string, name: string): boolean {
  if (pattern === '*') return true;
  let regex = '';
  for (let index = 0; index < pattern.length; index++) {
    const char = pattern[index] ?? '';
    if (char === '\\' && index + 1 < pattern.length) {
      regex += (pattern[index + 1] ?? '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      index += 1;
    } else if (char === '%') regex += '.*';
    else if (char === '_') regex += '.';
    else regex += char.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${regex}$`, 'i').test(name);
}
