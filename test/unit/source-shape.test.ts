import { describe, expect, it } from 'vitest';
import { compile, compileWithoutParameters } from '../../src/source/postgres/compile.ts';
import { cursorCondition, fingerprintExpression, keyLookupCondition, kindOfPostgresType, rowKeyExpression } from '../../src/source/postgres/sql.ts';
import { cursorColumnProblem, keyColumnProblem, rowKeyParts, type SourceColumn } from '../../src/source/types.ts';

/**
 * The row key, fingerprint and cursor are SQL that the warehouse evaluates. These tests pin the
 * SQL text and its parameters; that the warehouse's answers equal the keys earlier versions
 * recorded is proven against a real Postgres by the integration tests:
 * - test/integration/new-rows.test.ts, "treats every composite primary key as its own invitation,
 *   and sends none twice": a composite (text, integer) key is stored as
 *   JSON.stringify([orderId, String(lineNo)]);
 * - test/integration/source-edges.test.ts, "keeps bigint keys beyond 2^53 distinct": an int8 key
 *   is stored as the exact text node-postgres returns for it.
 */

// Type OIDs as Postgres fixes them (pg_type.dat), with the names format_type(oid, NULL) prints.
const TYPES = {
  text: [25, 'text'],
  varchar: [1043, 'character varying'],
  bpchar: [1042, 'character'],
  int2: [21, 'smallint'],
  int4: [23, 'integer'],
  int8: [20, 'bigint'],
  numeric: [1700, 'numeric'],
  uuid: [2950, 'uuid'],
  bool: [16, 'boolean'],
  date: [1082, 'date'],
  timestamp: [1114, 'timestamp without time zone'],
  timestamptz: [1184, 'timestamp with time zone'],
  json: [114, 'json'],
  jsonb: [3802, 'jsonb'],
  float4: [700, 'real'],
  float8: [701, 'double precision'],
  bytea: [17, 'bytea'],
  int4Array: [1007, 'integer[]'],
  textArray: [1009, 'text[]'],
} as const satisfies Record<string, readonly [number, string]>;

function col(name: string, type: keyof typeof TYPES): SourceColumn {
  const [oid, typeName] = TYPES[type];
  return { name, kind: kindOfPostgresType(oid, typeName), typeName, native: oid };
}

const ISO_MILLIS_MASK = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;
const DATE_MASK = `'YYYY-MM-DD"T00:00:00.000Z"'`;

/**
 * Applies the subset of Postgres' to_char template patterns the row key uses (YYYY, MM, DD, HH24,
 * MI, SS, MS and "quoted text") to a Date's UTC fields, so the masks in the SQL can be compared
 * with Date.toISOString(), the form earlier versions recorded for timestamp keys.
 */
function toCharUtc(mask: string, date: Date): string {
  const pad = (value: number, width: number) => String(value).padStart(width, '0');
  const patterns: [string, (d: Date) => string][] = [
    ['YYYY', (d) => pad(d.getUTCFullYear(), 4)],
    ['HH24', (d) => pad(d.getUTCHours(), 2)],
    ['MM', (d) => pad(d.getUTCMonth() + 1, 2)],
    ['DD', (d) => pad(d.getUTCDate(), 2)],
    ['MI', (d) => pad(d.getUTCMinutes(), 2)],
    ['SS', (d) => pad(d.getUTCSeconds(), 2)],
    ['MS', (d) => pad(d.getUTCMilliseconds(), 3)],
  ];
  let output = '';
  let rest = mask;
  while (rest.length > 0) {
    if (rest.startsWith('"')) {
      const end = rest.indexOf('"', 1);
      output += rest.slice(1, end);
      rest = rest.slice(end + 1);
      continue;
    }
    const pattern = patterns.find(([token]) => rest.startsWith(token));
    if (pattern) {
      output += pattern[1](date);
      rest = rest.slice(pattern[0].length);
    } else {
      output += rest[0];
      rest = rest.slice(1);
    }
  }
  return output;
}

/** The to_char template literal of a compiled key part, without its SQL quotes. */
function maskOf(compiledSql: string): string {
  const match = /to_char\([^,]+, '([^']*)'\)/.exec(compiledSql);
  if (!match?.[1]) throw new Error(`no to_char template in ${compiledSql}`);
  return match[1];
}

/** A time key part: its ISO form when finite, its own text ('infinity') otherwise. */
function finite(column: string, iso: string): string {
  return `case when pg_catalog.isfinite("src"."${column}") then ${iso} else "src"."${column}"::text end`;
}

describe('rowKeyExpression: one key column', () => {
  it('reads a text key as its own text, with no parameters', () => {
    const compiled = compile(rowKeyExpression([col('order_id', 'text')]));
    expect(compiled.sql).toBe('"src"."order_id"::text');
    expect(compiled.parameters).toEqual([]);
  });

  it('reads an integer key as its decimal text, which is String() of the number node-postgres returns', () => {
    // node-postgres returns an int4 as a number, whose String() is the text Postgres prints for it.
    expect(compile(rowKeyExpression([col('order_id', 'int4')])).sql).toBe('"src"."order_id"::text');
  });

  it('reads a bigint key as its exact text, never through a JavaScript number', () => {
    const compiled = compile(rowKeyExpression([col('order_id', 'int8')]));
    expect(compiled.sql).toBe('"src"."order_id"::text');
    expect(compiled.sql).not.toContain('numeric');
    expect(compiled.sql).not.toContain('float');
  });

  it('reads a timestamptz key as ISO with milliseconds in UTC', () => {
    const compiled = compile(rowKeyExpression([col('placed_at', 'timestamptz')]));
    expect(compiled.sql).toBe(finite('placed_at', `pg_catalog.to_char("src"."placed_at" at time zone 'UTC', ${ISO_MILLIS_MASK})`));
    expect(compiled.parameters).toEqual([]);
  });

  it('reads a timestamp without time zone as ISO with milliseconds, its wall time taken as UTC', () => {
    const compiled = compile(rowKeyExpression([col('placed_at', 'timestamp')]));
    expect(compiled.sql).toBe(finite('placed_at', `pg_catalog.to_char("src"."placed_at", ${ISO_MILLIS_MASK})`));
  });

  it('reads a date key as the ISO form of its UTC midnight', () => {
    const compiled = compile(rowKeyExpression([col('placed_on', 'date')]));
    expect(compiled.sql).toBe(finite('placed_on', `pg_catalog.to_char("src"."placed_on", ${DATE_MASK})`));
  });

  it('spells timestamps exactly as Date.toISOString() does, which is what earlier versions recorded', () => {
    const mask = maskOf(compile(rowKeyExpression([col('placed_at', 'timestamptz')])).sql);
    for (const iso of ['2024-02-29T23:59:59.123Z', '1999-12-31T00:00:00.000Z', '2030-07-04T09:05:03.007Z', '0999-01-02T03:04:05.060Z']) {
      const date = new Date(iso);
      expect(toCharUtc(mask, date)).toBe(date.toISOString());
    }
  });

  it('spells dates as Date.toISOString() of the UTC midnight node-postgres returns in a UTC process', () => {
    const mask = maskOf(compile(rowKeyExpression([col('placed_on', 'date')])).sql);
    const midnight = new Date(Date.UTC(2024, 1, 29));
    expect(toCharUtc(mask, midnight)).toBe(midnight.toISOString());
    expect(toCharUtc(mask, midnight)).toBe('2024-02-29T00:00:00.000Z');
  });

  it('keeps a column name with a dot as one quoted identifier', () => {
    expect(compile(rowKeyExpression([col('order.id', 'text')])).sql).toBe('"src"."order.id"::text');
  });

  it('keeps a column name with double quotes as one identifier, its quotes doubled', () => {
    expect(compile(rowKeyExpression([col('the "id"', 'text')])).sql).toBe('"src"."the ""id"""::text');
  });

  it('keeps the capitals of a column name by quoting it', () => {
    expect(compile(rowKeyExpression([col('OrderId', 'int4')])).sql).toBe('"src"."OrderId"::text');
  });

  it('does not let a column name end the identifier and inject SQL', () => {
    const compiled = compile(rowKeyExpression([col('x"; drop table orders; --', 'text')]));
    expect(compiled.sql).toBe('"src"."x""; drop table orders; --"::text');
  });

  it('reads a char(n) key as the padded text node-postgres returned for it, the key earlier versions recorded', () => {
    // node-postgres returns a char(5) value 'ab' as 'ab   '; `::text` trims the padding to 'ab',
    // so every char(n)-keyed row recorded before would count as new again.
    const compiled = compile(rowKeyExpression([col('country_code', 'bpchar')]));
    expect(compiled.sql).not.toBe('"src"."country_code"::text');
  });
});

describe('rowKeyExpression: composite keys', () => {
  const shopId = col('shop_id', 'int4');
  const placedAt = col('placed_at', 'timestamptz');
  const orderRef = col('order_ref', 'text');

  it('is NULL when any part is NULL, else a compact JSON array of each part as a JSON string', () => {
    const compiled = compile(rowKeyExpression([shopId, placedAt]));
    expect(compiled.sql).toBe(
      'case when "src"."shop_id" is null or "src"."placed_at" is null then null else ' +
        `'[' || pg_catalog.concat_ws(',', pg_catalog.to_json("src"."shop_id"::text)::text, pg_catalog.to_json(${finite('placed_at', `pg_catalog.to_char("src"."placed_at" at time zone 'UTC', ${ISO_MILLIS_MASK})`)})::text) || ']' end`,
    );
    expect(compiled.parameters).toEqual([]);
  });

  it('renders each part exactly as the same column would be rendered as a one-column key', () => {
    const compiled = compile(rowKeyExpression([shopId, placedAt, orderRef])).sql;
    for (const part of [shopId, placedAt, orderRef]) {
      expect(compiled).toContain(`pg_catalog.to_json(${compile(rowKeyExpression([part])).sql})::text`);
    }
  });

  it('keeps the primary key order, and tests every part for NULL', () => {
    const compiled = compile(rowKeyExpression([orderRef, shopId])).sql;
    expect(compiled.indexOf('"src"."order_ref"::text')).toBeLessThan(compiled.indexOf('"src"."shop_id"::text'));
    expect(compiled).toMatch(/^case when "src"\."order_ref" is null or "src"\."shop_id" is null then null else /);
  });

  it('joins the parts without spaces, as JSON.stringify(values.map(String)) does', () => {
    const compiled = compile(rowKeyExpression([orderRef, shopId])).sql;
    expect(compiled).toContain(`'[' || pg_catalog.concat_ws(',', `);
    expect(compiled).toContain(`) || ']' end`);
    expect(compiled).not.toMatch(/concat_ws\(', '/);
  });

  it('quotes dotted, quoted and capitalised names as single identifiers in a composite key too', () => {
    const compiled = compile(rowKeyExpression([col('Shop.Id', 'int4'), col('ref "x"', 'text')])).sql;
    expect(compiled).toContain('"src"."Shop.Id" is null or "src"."ref ""x""" is null');
    expect(compiled).toContain('pg_catalog.to_json("src"."Shop.Id"::text)::text, pg_catalog.to_json("src"."ref ""x"""::text)::text');
  });

  it('makes the whole key NULL when a non-NULL part has no text (an infinite timestamp), rather than dropping that part', () => {
    // pg_catalog.to_char() of 'infinity' is NULL and pg_catalog.concat_ws() skips NULL arguments: unless the NULL guard
    // covers the rendered part (or infinities are given a text), ('1', infinity) becomes '["1"]',
    // a one-element key for a two-column primary key, which rowKeyParts then refuses.
    const compiled = compile(rowKeyExpression([shopId, placedAt])).sql;
    const guard = /^case when (.*?) then null else /.exec(compiled)?.[1] ?? '';
    const rendered = compile(rowKeyExpression([placedAt])).sql;
    const guardsRenderedPart = guard.includes(`${rendered} is null`) || /isfinite\("src"\."placed_at"\)/.test(compiled);
    expect(guardsRenderedPart, `NULL guard: ${guard}`).toBe(true);
  });
});

describe('fingerprintExpression', () => {
  it('hashes the mapped columns as one row value, in the order given', () => {
    const compiled = compile(fingerprintExpression(['consumer_email', 'consumer_name', 'order_ref']));
    expect(compiled.sql).toBe('pg_catalog.md5(row("src"."consumer_email", "src"."consumer_name", "src"."order_ref")::text)');
    expect(compiled.parameters).toEqual([]);
  });

  it('changes with the order of the columns, so every process must pass the same order', () => {
    const ab = compile(fingerprintExpression(['a', 'b'])).sql;
    const ba = compile(fingerprintExpression(['b', 'a'])).sql;
    expect(ab).not.toBe(ba);
  });

  it('quotes dotted, quoted and capitalised column names as single identifiers', () => {
    expect(compile(fingerprintExpression(['Buyer.Email', 'say "hi"'])).sql).toBe('pg_catalog.md5(row("src"."Buyer.Email", "src"."say ""hi""")::text)');
  });
});

describe('cursorCondition', () => {
  const updatedAt = col('updated_at', 'timestamptz');

  it('inlines the bound as a timestamptz literal and includes rows without a cursor value', () => {
    const compiled = compile(cursorCondition(updatedAt, '2024-05-01T00:00:00.000Z'));
    expect(compiled.sql).toBe(`("src"."updated_at" >= '2024-05-01T00:00:00.000Z'::timestamptz or "src"."updated_at" is null)`);
    expect(compiled.parameters).toEqual([]);
  });

  it('carries no parameters, so it can be part of a COPY statement', () => {
    expect(compileWithoutParameters(cursorCondition(updatedAt, '2024-05-01T00:00:00.000Z'))).toContain("'2024-05-01T00:00:00.000Z'::timestamptz");
  });

  it('escapes a quote in the bound, so the literal cannot be ended early', () => {
    const compiled = compile(cursorCondition(updatedAt, "2024-05-01'; drop table orders; --"));
    expect(compiled.sql).toContain(`'2024-05-01''; drop table orders; --'::timestamptz`);
  });

  it('quotes a dotted, capitalised cursor column as one identifier', () => {
    const compiled = compile(cursorCondition(col('Updated.At', 'date'), '2024-05-01T00:00:00.000Z'));
    expect(compiled.sql).toBe(`("src"."Updated.At" >= '2024-05-01T00:00:00.000Z'::timestamptz or "src"."Updated.At" is null)`);
  });
});

describe('keyLookupCondition', () => {
  it('compares a text key in its own type through the index, then on the exact row key', () => {
    const compiled = compile(keyLookupCondition([col('order_id', 'text')], ['ORD-1', 'ORD-2']));
    expect(compiled.sql).toBe('"src"."order_id" = any(cast($1::text[] as text[])) and "src"."order_id"::text = any($2::text[])');
    expect(compiled.parameters).toEqual([
      ['ORD-1', 'ORD-2'],
      ['ORD-1', 'ORD-2'],
    ]);
  });

  it('casts the keys of an integer key to its type, so the integer index is used', () => {
    const compiled = compile(keyLookupCondition([col('order_id', 'int4')], ['1', '22']));
    expect(compiled.sql).toBe('"src"."order_id" = any(cast($1::text[] as integer[])) and "src"."order_id"::text = any($2::text[])');
    expect(compiled.parameters).toEqual([
      ['1', '22'],
      ['1', '22'],
    ]);
  });

  it('casts the keys of a bigint key to bigint, keeping their exact text as parameters', () => {
    const compiled = compile(keyLookupCondition([col('order_id', 'int8')], ['9007199254740993']));
    expect(compiled.sql).toContain('cast($1::text[] as bigint[])');
    expect(compiled.parameters).toEqual([['9007199254740993'], ['9007199254740993']]);
  });

  it('passes keys as parameters, never inlined into the SQL', () => {
    const compiled = compile(keyLookupCondition([col('email', 'text')], ["o'brien@example.com"]));
    expect(compiled.sql).not.toContain('brien');
  });

  it('compares a timestamp key on the exact row key only, as its text does not cast back to an equal value', () => {
    const compiled = compile(keyLookupCondition([col('placed_at', 'timestamptz')], ['2024-05-01T10:00:00.000Z']));
    expect(compiled.sql).toBe(`${finite('placed_at', `pg_catalog.to_char("src"."placed_at" at time zone 'UTC', ${ISO_MILLIS_MASK})`)} = any($1::text[])`);
    expect(compiled.parameters).toEqual([['2024-05-01T10:00:00.000Z']]);
  });

  it('prefilters a composite key on its exact-text parts only, and always compares the exact row key', () => {
    const primaryKey = [col('shop_id', 'int4'), col('placed_at', 'timestamptz')];
    const keys = ['["7","2024-05-01T10:00:00.000Z"]', '["8","2024-05-02T11:30:00.250Z"]'];
    const compiled = compile(keyLookupCondition(primaryKey, keys));
    expect(compiled.sql).toBe(
      `("src"."shop_id") in (select "k"."p0"::integer from unnest($1::text[]) as k("p0")) and ${compile(rowKeyExpression(primaryKey)).sql} = any($2::text[])`,
    );
    expect(compiled.sql).not.toContain('::timestamp with time zone');
    expect(compiled.parameters).toEqual([['7', '8'], keys]);
  });

  it('unnests one array per exact-text part of a composite key, each cast to its own type', () => {
    const primaryKey = [col('order_ref', 'text'), col('line_no', 'int4')];
    const keys = ['["CP-1","1"]', '["CP-1","2"]'];
    const compiled = compile(keyLookupCondition(primaryKey, keys));
    expect(compiled.sql).toMatch(
      /^\("src"\."order_ref", "src"\."line_no"\) in \(select "k"\."p0"::text, "k"\."p1"::integer from unnest\(\$1::text\[\], \$2::text\[\]\) as k\("p0", "p1"\)\) and case when /,
    );
    expect(compiled.sql).toMatch(/ = any\(\$3::text\[\]\)$/);
    expect(compiled.parameters).toEqual([['CP-1', 'CP-1'], ['1', '2'], keys]);
  });

  it('compares a composite key of timestamps on the exact row key only', () => {
    const primaryKey = [col('opened_at', 'timestamptz'), col('opened_on', 'date')];
    const keys = ['["2024-05-01T10:00:00.000Z","2024-05-01T00:00:00.000Z"]'];
    const compiled = compile(keyLookupCondition(primaryKey, keys));
    expect(compiled.sql).toMatch(/^case when .* = any\(\$1::text\[\]\)$/);
    expect(compiled.sql).not.toContain('unnest');
    expect(compiled.parameters).toEqual([keys]);
  });

  it('refuses a composite key that is not a JSON array of as many texts as the key has columns', () => {
    const primaryKey = [col('order_ref', 'text'), col('line_no', 'int4')];
    expect(() => keyLookupCondition(primaryKey, ['["CP-1"]'])).toThrow('row key is not a JSON array of 2 texts');
  });

  it('does not cast a char(n) key to "character", which is char(1) and would truncate every key', () => {
    // format_type(1042, NULL) prints 'character'; `cast(... as character[])` is char(1)[]:
    // 'ab' becomes 'a', and no row with a longer char(n) key is ever found again.
    const single = compile(keyLookupCondition([col('country_code', 'bpchar')], ['GB', 'NL'])).sql;
    expect(single).not.toMatch(/as character\[\]/);
    const composite = compile(keyLookupCondition([col('country_code', 'bpchar'), col('line_no', 'int4')], ['["GB","1"]'])).sql;
    expect(composite).not.toMatch(/::character[,)]/);
  });
});

describe('keyColumnProblem', () => {
  it.each([
    ['text', 'text'],
    ['varchar', 'varchar'],
    ['int4', 'int4'],
    ['int8', 'int8'],
    ['numeric', 'numeric'],
    ['uuid', 'uuid'],
    ['bool', 'bool'],
    ['date', 'date'],
    ['timestamp', 'timestamp'],
    ['timestamptz', 'timestamptz'],
  ] as const)('accepts a key column of type %s', (_label, type) => {
    expect(keyColumnProblem(col('id', type))).toBeUndefined();
  });

  it.each([
    ['json', 'json'],
    ['jsonb', 'jsonb'],
    ['double precision', 'float8'],
    ['real', 'float4'],
    ['bytea', 'bytea'],
    ['integer[]', 'int4Array'],
    ['text[]', 'textArray'],
  ] as const)('refuses a key column of type %s, naming the column and its type', (typeName, type) => {
    const problem = keyColumnProblem(col('payload', type));
    expect(problem).toContain("primary key column 'payload'");
    expect(problem).toContain(`of type ${typeName}`);
    expect(problem).toContain('use text, an integer, uuid, a date or a timestamp');
  });
});

describe('cursorColumnProblem', () => {
  it.each(['date', 'timestamp', 'timestamptz'] as const)('accepts a cursor column of type %s', (type) => {
    expect(cursorColumnProblem(col('updated_at', type))).toBeUndefined();
  });

  it.each([
    ['integer', 'int4'],
    ['bigint', 'int8'],
    ['text', 'text'],
    ['numeric', 'numeric'],
  ] as const)('refuses a cursor column of type %s: a look-back is a duration', (typeName, type) => {
    const problem = cursorColumnProblem(col('version', type));
    expect(problem).toContain("cursor column 'version'");
    expect(problem).toContain(`of type ${typeName}`);
    expect(problem).toContain('a cursor must be a date or timestamp column');
  });
});

describe('rowKeyParts', () => {
  it('returns a one-column key whole, even when it looks like JSON', () => {
    expect(rowKeyParts('ORD-1', 1)).toEqual(['ORD-1']);
    expect(rowKeyParts('["a","b"]', 1)).toEqual(['["a","b"]']);
  });

  it('parses a composite key into its parts, in primary-key order', () => {
    expect(rowKeyParts('["CP-1","2"]', 2)).toEqual(['CP-1', '2']);
    expect(rowKeyParts('["7","2024-05-01T10:00:00.000Z","x,y"]', 3)).toEqual(['7', '2024-05-01T10:00:00.000Z', 'x,y']);
  });

  it('reads back the keys earlier versions recorded with JSON.stringify(values.map(String))', () => {
    const values: unknown[] = ['Zoë "Z" \\ Ångström', 42, '9007199254740993', true, new Date('2024-05-01T10:00:00.000Z').toISOString()];
    const recorded = JSON.stringify(values.map(String));
    expect(rowKeyParts(recorded, values.length)).toEqual(values.map(String));
  });

  it('refuses a composite key with the wrong number of parts', () => {
    expect(() => rowKeyParts('["CP-1"]', 2)).toThrow('row key is not a JSON array of 2 texts');
    expect(() => rowKeyParts('["CP-1","2","3"]', 2)).toThrow('row key is not a JSON array of 2 texts');
  });

  it('refuses a composite key whose parts are not texts', () => {
    expect(() => rowKeyParts('["CP-1",2]', 2)).toThrow('row key is not a JSON array of 2 texts');
    expect(() => rowKeyParts('["CP-1",null]', 2)).toThrow('row key is not a JSON array of 2 texts');
  });

  it('refuses a composite key that is JSON but not an array', () => {
    expect(() => rowKeyParts('{"0":"a","1":"b"}', 2)).toThrow('row key is not a JSON array of 2 texts');
    expect(() => rowKeyParts('12345', 2)).toThrow('row key is not a JSON array of 2 texts');
  });

  it('refuses a composite key that is not JSON with the same message, without quoting the key', () => {
    // e.g. a key recorded before the primary key gained a second column
    const attempt = () => rowKeyParts('jane.doe@example.com', 2);
    expect(attempt).toThrow('row key is not a JSON array of 2 texts');
    expect(attempt).not.toThrow(/jane\.doe/);
  });
});
