import { describe, expect, it } from 'vitest';
import { findReadOnlySqlProblem, isSqlKeyword, normalizeSegmentSql, sqlNames } from '../../src/domain/read-only-sql.ts';

const SECOND_STATEMENT = "must be a single statement: remove everything after the first ';'";

describe('findReadOnlySqlProblem: statements Postgres would run after the query are found', () => {
  it.each([
    // A `--` comment ends at a carriage return as well as at a newline.
    ['a comment ended by \\r', 'select 1 -- note\r; alter role reader superuser'],
    ['a comment ended by \\r\\n', 'select 1 -- note\r\n; alter role reader superuser'],
    // A `$` after an identifier character continues the identifier: no dollar quote starts there.
    ['$q$ after a non-ASCII letter', 'select é$q$; drop table orders; --$q$'],
    ['$$ after a non-ASCII letter', 'select ñ$$; drop table orders; --$$'],
    ['$q$ after a digit', 'select 1$q$; drop table orders; --$q$'],
    ['$q$ after a letter', 'select a$q$; drop table orders; --$q$'],
    // E'...' is an escape string only where the E starts a token.
    ["E'...' after a non-ASCII letter", "select éE'\\'; drop table orders; --'"],
    ["E'...' after a letter", "select abcE'\\'; drop table orders; --'"],
    // In U&'...' a backslash does not escape the quote.
    ["a backslash before the quote of U&'...'", "select U&'\\'; drop table orders; --'"],
    ["a backslash before the quote of a plain string", "select '\\'; drop table orders; --'"],
    ['an escape string holding a backslash', "select E'\\\\', 1; drop table orders"],
    ['a block comment closed once only', 'select 1 /* a */ ; drop table orders; */'],
    ['a second statement after a trailing semicolon and comment', 'select 1; -- done\n drop table orders'],
  ])('finds a second statement after %s', (_, sql) => {
    expect(findReadOnlySqlProblem(sql)).toBe(SECOND_STATEMENT);
  });
});

describe('findReadOnlySqlProblem: what is not code', () => {
  it.each([
    ['a semicolon in a string', "select 'a;b' as x"],
    ['a doubled quote in a string', "select 'it''s; drop table orders' as x"],
    ['a semicolon in a quoted identifier', 'select 1 as "a;""b"'],
    ['nested block comments', 'select 1 /* a /* b; drop table orders; */ c; */ as x'],
    ['an escaped quote in an escape string', "select E'a\\'; drop table orders' as x"],
    ['a Unicode escape string', "select U&'d\\0061t\\+000061; drop' as x"],
    ['a Unicode quoted identifier', 'select 1 as U&"d\\0061t;"'],
    ['a dollar-quoted string', 'select $body$ ; drop table orders $body$ as x'],
    ['a dollar quote with a non-ASCII tag', 'select $é$ ; drop table orders $é$ as x'],
    ['a dollar quote after a quoted identifier', 'select 1 as "x", $q$;$q$ as y'],
    ['a comment inside an operator', 'select 1 +-- drop table orders;\n 2'],
    ['a bit string and a hex string', "select B'1;0', X'1F;' as x"],
  ])('ignores %s', (_, sql) => {
    expect(findReadOnlySqlProblem(sql)).toBeUndefined();
  });

  it.each([
    ['a semicolon', 'select 1;'],
    ['semicolons, comments and whitespace, alternating', 'select 1; -- done\n;  /* x */ \r\n;'],
    ['a line comment without a newline', 'select 1 -- done'],
    ['a line comment ended by \\r', 'select 1 -- done\r'],
    ['a nested block comment', 'select 1 /* a /* b */ c */'],
  ])('accepts a query followed by %s', (_, sql) => {
    expect(findReadOnlySqlProblem(sql)).toBeUndefined();
  });

  it.each([
    ['a string', "select 'open"],
    ['an escape string ending in a backslash', "select E'open\\'"],
    ['a quoted identifier', 'select "open'],
    ['a block comment', 'select 1 /* a /* b */'],
    ['a dollar quote', 'select $q$ open $Q$'],
  ])('reports an unterminated %s', (_, sql) => {
    expect(findReadOnlySqlProblem(sql)).toBe('has an unterminated string, quoted identifier or comment');
  });

  it('still refuses writes and empty queries', () => {
    expect(findReadOnlySqlProblem(' ; -- nothing')).toBe('is empty: provide a SELECT or WITH statement');
    expect(findReadOnlySqlProblem('delete from orders; -- gone')).toContain('DELETE statements are not allowed');
    expect(findReadOnlySqlProblem('select * from orders for update;')).toContain('UPDATE is not allowed');
  });
});

describe('normalizeSegmentSql', () => {
  it.each([
    ['select 1; -- done\n;  /* x */', 'select 1'],
    ['select 1;;\n', 'select 1'],
    ['select 1 -- done', 'select 1'],
    ['select 1 -- done\r', 'select 1'],
    ['select 1  \n\t', 'select 1'],
    ["select ';' -- c", "select ';'"],
    ['select $$;$$;', 'select $$;$$'],
    ['select 1 /* a /* b */ c */ ;', 'select 1'],
    ['-- heading\nselect 1;', '-- heading\nselect 1'],
    ['select 1; select 2; ', 'select 1; select 2'],
    ['select 1 -- x\r; drop table orders', 'select 1 -- x\r; drop table orders'],
    ['  ;  ', ''],
  ])('turns %j into %j', (sql, normalized) => {
    expect(normalizeSegmentSql(sql)).toBe(normalized);
  });

  it('returns a query with nothing to remove unchanged', () => {
    const sql = "select o.id, 'x;' as \"a;b\" from shop.orders o";
    expect(normalizeSegmentSql(sql)).toBe(sql);
  });

  it('leaves a query with an unterminated literal or comment to the server', () => {
    expect(normalizeSegmentSql('select 1 /* open ;')).toBe('select 1 /* open ;');
    expect(normalizeSegmentSql("select 'open ; ")).toBe("select 'open ; ");
  });
});

describe('sqlNames', () => {
  it('lists identifiers as Postgres reads them, and nothing from strings, comments, numbers or keywords', () => {
    const names = sqlNames(`select "Mixed ""Case""", Foo, é$x, o.order_id, 12 as n, $1
      from shop.orders o -- a comment word
     where o.status = 'shipped' and x = $q$dollar$q$ and y = E'esc' and U&"d\\0061t" is not null`);
    expect(names).toEqual(['Mixed "Case"', 'foo', 'é$x', 'o', 'order_id', 'n', 'shop', 'orders', 'o', 'o', 'status', 'x', 'y', 'd\\0061t']);
  });

  it('keeps a keyword that is quoted', () => {
    expect(sqlNames('select "order", "select" from t')).toEqual(['order', 'select', 't']);
  });

  it('knows keywords of every category, whatever their case', () => {
    for (const word of ['select', 'FROM', 'name', 'json_table', 'merge_action', 'user', 'year']) expect(isSqlKeyword(word)).toBe(true);
    for (const word of ['orders', 'customer_email', 'zoë']) expect(isSqlKeyword(word)).toBe(false);
  });
});
