import { describe, expect, it } from 'vitest';
import type { ActivationConfig, ActivationConfigInput, ResolvedActivation } from '../../src/domain/index.ts';
import { mappedColumnsOf, shapeFor, sourceRefOf, type ColumnProblem } from '../../src/source/columns.ts';
import type { SourceColumn, SourceShape } from '../../src/source/types.ts';
import { activationInput, destinationInput, validConfigs } from '../fixtures.ts';

function configs(overrides: Partial<ActivationConfigInput> = {}): { activation: ActivationConfig; resolved: ResolvedActivation } {
  return validConfigs(
    destinationInput(),
    activationInput({
      source: { kind: 'table', schema: 'shop', name: 'orders' },
      mapping: { consumerName: 'buyer_name', consumerEmail: 'buyer_email', referenceNumber: 'order_ref' },
      ...overrides,
    }),
  );
}

const text = (name: string): SourceColumn => ({ name, kind: 'text' as const, native: 25, typeName: 'text' });
const int4 = (name: string): SourceColumn => ({ name, kind: 'integer' as const, native: 23, typeName: 'integer' });
const timestamptz = (name: string): SourceColumn => ({ name, kind: 'timestamptz' as const, native: 1184, typeName: 'timestamp with time zone' });

const ordersColumns: SourceColumn[] = [
  int4('order_id'),
  text('order_ref'),
  text('buyer_name'),
  text('buyer_email'),
  text('locale'),
  timestamptz('updated_at'),
];

function problemsOf(result: ReturnType<typeof shapeFor>): ColumnProblem[] {
  if (result.ok) throw new Error(`expected column problems, got shape ${JSON.stringify(result.shape)}`);
  return result.problems;
}

function shapeOf(result: ReturnType<typeof shapeFor>): SourceShape {
  if (!result.ok) throw new Error(`expected a shape, got ${JSON.stringify(result.problems)}`);
  return result.shape;
}

describe('shapeFor: a source that has every column', () => {
  it('resolves the key, the mapped columns and the source', () => {
    const { activation, resolved } = configs();
    const shape = shapeOf(shapeFor(activation, resolved, ordersColumns));
    expect(shape).toStrictEqual({
      source: { kind: 'table', schema: 'shop', name: 'orders' },
      primaryKey: [int4('order_id')],
      mappedColumns: ['buyer_email', 'buyer_name', 'order_ref'],
    });
  });

  it('resolves a cursor column with its type', () => {
    const { activation, resolved } = configs({ cursor: { column: 'updated_at' } });
    expect(shapeOf(shapeFor(activation, resolved, ordersColumns)).cursor).toStrictEqual(timestamptz('updated_at'));
  });

  it('resolves a composite key in the configured order, not the source order', () => {
    const { activation, resolved } = configs({ primaryKey: ['order_ref', 'order_id'] });
    expect(shapeOf(shapeFor(activation, resolved, ordersColumns)).primaryKey).toStrictEqual([text('order_ref'), int4('order_id')]);
  });

  it('keeps the SQL of a query source', () => {
    const { activation, resolved } = configs({ source: { kind: 'query', sql: 'select * from shop.orders' } });
    expect(shapeOf(shapeFor(activation, resolved, ordersColumns)).source).toStrictEqual({ kind: 'query', sql: 'select * from shop.orders' });
    expect(sourceRefOf(activation)).toStrictEqual({ kind: 'query', sql: 'select * from shop.orders' });
  });

  it('matches column names exactly, capitals and dots included', () => {
    const { activation, resolved } = configs({
      primaryKey: 'Order.Id',
      mapping: { consumerName: 'Buyer Name', consumerEmail: 'buyer_email', referenceNumber: 'Order.Id' },
    });
    const columns = [int4('Order.Id'), text('Buyer Name'), text('buyer_email')];
    const shape = shapeOf(shapeFor(activation, resolved, columns));
    expect(shape.primaryKey).toStrictEqual([int4('Order.Id')]);
    expect(shape.mappedColumns).toEqual(['buyer_email', 'Buyer Name', 'Order.Id']);
  });
});

describe('shapeFor: missing columns', () => {
  it("suggests the close column for a typo in a mapped column: did you mean 'buyer_email'?", () => {
    const { activation, resolved } = configs({ mapping: { consumerName: 'buyer_name', consumerEmail: 'buyer_emial', referenceNumber: 'order_ref' } });
    expect(problemsOf(shapeFor(activation, resolved, ordersColumns))).toStrictEqual([
      { path: 'mapping.consumerEmail', message: "column 'buyer_emial' is not in the source; did you mean 'buyer_email'?" },
    ]);
  });

  it('suggests a column that differs only in case', () => {
    const { activation, resolved } = configs({ primaryKey: 'ORDER_ID' });
    const [problem] = problemsOf(shapeFor(activation, resolved, ordersColumns));
    expect(problem).toStrictEqual({ path: 'primaryKey', message: "column 'ORDER_ID' is not in the source; did you mean 'order_id'?" });
  });

  it('lists the available columns when nothing is close', () => {
    const { activation, resolved } = configs({ cursor: { column: 'modification_timestamp' } });
    expect(problemsOf(shapeFor(activation, resolved, ordersColumns))).toStrictEqual([
      {
        path: 'cursor.column',
        message: "column 'modification_timestamp' is not in the source; the source has: order_id, order_ref, buyer_name, buyer_email, locale, updated_at",
      },
    ]);
  });

  it('lists at most 12 available columns, then an ellipsis', () => {
    const { activation, resolved } = configs({ mapping: { consumerName: 'buyer_name', consumerEmail: 'buyer_email', referenceNumber: 'nothing_like_it' } });
    const many = [...ordersColumns, ...Array.from({ length: 10 }, (_, index) => text(`extra_${index}`))];
    const [problem] = problemsOf(shapeFor(activation, resolved, many));
    expect(problem?.message).toContain('the source has: order_id, order_ref, buyer_name, buyer_email, locale, updated_at, extra_0, extra_1, extra_2, extra_3, extra_4, extra_5, …');
    expect(problem?.message).not.toContain('extra_6');
  });

  it('says only that the column is missing when the source has no columns', () => {
    const { activation, resolved } = configs();
    const problems = problemsOf(shapeFor(activation, resolved, []));
    expect(problems).toContainEqual({ path: 'primaryKey', message: "column 'order_id' is not in the source" });
  });

  it('reports every missing column at once, each under its own path', () => {
    const { activation, resolved } = configs({
      primaryKey: ['shop_id', 'order_id'],
      cursor: { column: 'changed_at' },
      mapping: { consumerName: 'buyer_nmae', consumerEmail: 'buyer_email', referenceNumber: 'order_ref', locale: 'language' },
    });
    const paths = problemsOf(shapeFor(activation, resolved, ordersColumns)).map((problem) => problem.path);
    expect(paths).toEqual(['primaryKey.0', 'cursor.column', 'mapping.consumerName', 'mapping.locale']);
  });

  it('names a missing part of a composite key by its index', () => {
    const { activation, resolved } = configs({ primaryKey: ['order_id', 'line_no'] });
    const [problem] = problemsOf(shapeFor(activation, resolved, ordersColumns));
    expect(problem?.path).toBe('primaryKey.1');
    expect(problem?.message).toContain("column 'line_no' is not in the source");
  });
});

describe('shapeFor: unusable column types', () => {
  it('refuses a jsonb primary key under primaryKey, naming the column and type', () => {
    const { activation, resolved } = configs();
    const columns = ordersColumns.map((column) => (column.name === 'order_id' ? { name: 'order_id', kind: 'json' as const, native: 3802, typeName: 'jsonb' } : column));
    const problems = problemsOf(shapeFor(activation, resolved, columns));
    expect(problems).toHaveLength(1);
    expect(problems[0]?.path).toBe('primaryKey');
    expect(problems[0]?.message).toContain("primary key column 'order_id' is of type jsonb");
  });

  it('refuses a double precision part of a composite key', () => {
    const { activation, resolved } = configs({ primaryKey: ['order_ref', 'weight'] });
    const problems = problemsOf(shapeFor(activation, resolved, [...ordersColumns, { name: 'weight', kind: 'float' as const, native: 701, typeName: 'double precision' }]));
    expect(problems).toStrictEqual([
      {
        path: 'primaryKey',
        message: "primary key column 'weight' is of type double precision, which cannot identify rows reliably; use text, an integer, uuid, a date or a timestamp",
      },
    ]);
  });

  it('refuses a cursor that is not a date or timestamp, under cursor.column', () => {
    const { activation, resolved } = configs({ cursor: { column: 'order_id' } });
    expect(problemsOf(shapeFor(activation, resolved, ordersColumns))).toStrictEqual([
      {
        path: 'cursor.column',
        message: "cursor column 'order_id' is of type integer; a cursor must be a date or timestamp column (its look-back is a duration)",
      },
    ]);
  });

  it('accepts a date cursor', () => {
    const { activation, resolved } = configs({ cursor: { column: 'placed_on' } });
    const result = shapeFor(activation, resolved, [...ordersColumns, { name: 'placed_on', kind: 'date' as const, native: 1082, typeName: 'date' }]);
    expect(shapeOf(result).cursor?.name).toBe('placed_on');
  });

  it('reports type problems and missing columns together', () => {
    const { activation, resolved } = configs({
      cursor: { column: 'locale' },
      mapping: { consumerName: 'buyer_name', consumerEmail: 'email', referenceNumber: 'order_ref' },
    });
    const problems = problemsOf(shapeFor(activation, resolved, ordersColumns));
    expect(problems.map((problem) => problem.path)).toEqual(['cursor.column', 'mapping.consumerEmail']);
    expect(problems[1]?.message).toContain("column 'email' is not in the source");
  });
});

describe('mappedColumnsOf', () => {
  it('orders the columns by invitation field name, not by column name or mapping order', () => {
    const { resolved } = configs({
      mapping: { referenceNumber: 'a_ref', consumerName: 'z_name', consumerEmail: 'm_email', locale: 'b_locale' },
    });
    // consumerEmail < consumerName < locale < referenceNumber
    expect(mappedColumnsOf(resolved)).toEqual(['m_email', 'z_name', 'b_locale', 'a_ref']);
  });

  it('lists a column feeding several fields once, where its first field puts it', () => {
    const { resolved } = configs({
      mapping: { consumerName: 'buyer', consumerEmail: 'buyer_email', referenceNumber: 'order_ref', replyTo: 'buyer_email', senderName: 'buyer' },
    });
    // consumerEmail, consumerName, referenceNumber, replyTo, senderName
    expect(mappedColumnsOf(resolved)).toEqual(['buyer_email', 'buyer', 'order_ref']);
  });

  it('gives the same order for equal mappings written in different orders', () => {
    const one = configs({ mapping: { consumerName: 'n', consumerEmail: 'e', referenceNumber: 'r', locale: 'l' } }).resolved;
    const other = configs({ mapping: { locale: 'l', referenceNumber: 'r', consumerEmail: 'e', consumerName: 'n' } }).resolved;
    expect(mappedColumnsOf(one)).toEqual(mappedColumnsOf(other));
  });
});
