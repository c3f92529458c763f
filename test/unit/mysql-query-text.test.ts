import { describe, expect, it } from 'vitest';
import { mySqlForbiddenUse, mySqlQueryProblem, trimMySqlStatement } from '../../src/source/mysql/query-text.ts';

/**
 * The MySQL engine's own reading of a segment's SQL: an earlier, friendlier word than the server's,
 * and the refusal of what a segment has no business doing (files, named locks), wherever the code
 * hides it, without mistaking a string, a quoted name or a comment for code.
 */
describe("the MySQL engine's reading of a segment's SQL", () => {
  it.each([
    ["select * from orders into outfile '/tmp/x'", /INTO OUTFILE/],
    ['select * from orders into   dumpfile "/tmp/x"', /DUMPFILE/],
    ["select load_file('/etc/passwd') as x", /LOAD_FILE/],
    ["select LOAD_FILE /* a note */ ('/etc/passwd') as x", /LOAD_FILE/],
    ["select 1 from orders where /*!50000 load_file */ ('/etc/passwd') is null", /LOAD_FILE/],
    ["select 1 from orders where /*M! get_lock('x', 0) */ = 1", /named lock/],
    ["select get_lock('x', 0)", /named lock/],
    ['select is_free_lock(name) from orders', /named lock/],
    ['select release_all_locks()', /named lock/],
  ])('refuses %j', (sql, what) => {
    expect(mySqlForbiddenUse(sql)).toMatch(what);
    expect(mySqlQueryProblem(sql)).toMatch(/^uses .*, which a segment may not$/);
  });

  it.each([
    "select 'load_file(' as x, `get_lock(` from orders",
    'select order_id from orders -- into outfile\n',
    "select order_id from orders # get_lock('x', 0)\n",
    "select order_id from orders /* load_file('x') */",
    'select load_file_count, outfile_name from exports',
  ])('leaves %j alone', (sql) => {
    expect(mySqlForbiddenUse(sql)).toBeUndefined();
    expect(mySqlQueryProblem(sql)).toBeUndefined();
  });

  it('trims what follows the last statement, and says early that a text holds two', () => {
    expect(trimMySqlStatement('select 1 ;  -- done\n')).toBe('select 1');
    expect(trimMySqlStatement("select ';' as x; # note")).toBe("select ';' as x");
    expect(mySqlQueryProblem('select 1; select 2')).toMatch(/single statement/);
    expect(mySqlQueryProblem("select 'open")).toMatch(/unterminated/);
  });
});
