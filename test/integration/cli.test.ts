import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrdersTable, createTestContext, order, saveServiceActivation, type TestContext } from './harness.ts';
import { workerEnvFor } from './processes.ts';

const run = promisify(execFile);
const cliEntry = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

describe('the command line', () => {
  let ctx: TestContext;
  const cli = async (...args: string[]) => {
    try {
      const { stdout } = await run(process.execPath, ['--import', 'tsx', cliEntry, ...args], { env: workerEnvFor(ctx) });
      return { code: 0, stdout };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout + failed.stderr };
    }
  };

  beforeAll(async () => {
    ctx = await createTestContext('cli', { rateLimit: null });
    await ctx.startWorker();
    await createOrdersTable(ctx, 'orders', [order(1), order(2), { ...order(3), customer_email: 'not-an-email' }]);
    await saveServiceActivation(ctx, 'cli', { kind: 'query', sql: 'select order_id, customer_name, customer_email from shop.orders' });
  });
  afterAll(async () => {
    await ctx.close();
  });

  it('runs an activation now and prints its JSON summary', async () => {
    const { code, stdout } = await cli('run', 'cli', '--json');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ activationId: 'cli', status: 'succeeded', newRows: 3, sent: 2, rejected: 1 });
    expect(ctx.fake.accepted()).toHaveLength(2);
  });

  it('lists rejected rows by key and reason, without the bad value', async () => {
    const { code, stdout } = await cli('rows', 'cli', '--status', 'rejected', '--json');
    expect(code).toBe(0);
    const rows = JSON.parse(stdout) as { rowKey: string; error: string }[];
    expect(rows).toEqual([expect.objectContaining({ rowKey: 'O-000003', status: 'rejected' })]);
    expect(rows[0]?.error).toContain('consumerEmail');
    expect(stdout).not.toContain('not-an-email');
  });

  it('lists templates and sends an erasure request', async () => {
    const templates = await cli('templates', 'cli', '--json');
    expect(templates.code).toBe(0);
    expect((JSON.parse(templates.stdout) as unknown[]).length).toBeGreaterThan(0);

    const file = join(tmpdir(), `erase-${Date.now()}.txt`);
    await writeFile(file, 'customer1@shop.example.com\n');
    const refused = await cli('erase', 'cli', '--emails-file', file);
    expect(refused.code).not.toBe(0);
    expect(refused.stdout).toContain('--yes');
    const erased = await cli('erase', 'cli', '--emails-file', file, '--yes');
    expect(erased.code).toBe(0);
    expect(ctx.fake.accepted().map((invitation) => invitation.body.consumerEmail)).toEqual(['customer2@shop.example.com']);
  });

  it('validates configuration files, listing every problem', async () => {
    const file = join(tmpdir(), `bad-${Date.now()}.json`);
    await writeFile(
      file,
      JSON.stringify({
        destinations: [{ id: 'd', businessUnitId: 'bu', invitationType: 'product' }],
        activations: [{ id: 'a', destinationId: 'd', source: { kind: 'table', name: 'orders' }, primaryKey: 'id', mapping: { consumerName: 'n', consumerEmail: 'e' }, schedule: { every: '5m' } }],
      }),
    );
    const { code, stdout } = await cli('validate', file);
    expect(code).toBe(1);
    expect(stdout).toContain('referenceNumber');
    const valid = await cli('validate', fileURLToPath(new URL('../../examples/service-and-product.json', import.meta.url)));
    expect(valid).toMatchObject({ code: 0 });
  });
});
