import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteSchedule } from '../../src/temporal/schedules.ts';
import {
  acceptedReferences,
  createOrdersTable,
  createTestContext,
  orderActivation,
  runCli,
  saveServiceActivation,
  segmentRow,
  serviceDestination,
  waitFor,
  waitToEnd,
  type CliResult,
  type TestContext,
} from './harness.ts';
import { workerEnvFor } from './processes.ts';

/**
 * Deleting an activation, by `delete` or by `apply --prune`, stops what it is doing: its run in
 * progress ends (calls in flight finish and are recorded), no further invitation leaves, its unsent
 * rows stay in the ledger, and `recover` still works on it.
 */
describe('a deleted activation stops sending at once', () => {
  let ctx: TestContext;
  let dir: string;

  beforeAll(async () => {
    // One call at a time, each answered after 400 ms: a run of 40 rows takes about 16 s.
    ctx = await createTestContext('delete-stops', { rateLimit: null });
    ctx.fake.setFaults({ latencyMs: 400 });
    await ctx.startWorker();
    dir = await mkdtemp(join(tmpdir(), 'tpi-delete-stops-'));
  });
  afterAll(async () => {
    for (const id of ['del-cli', 'del-prune', 'del-keep']) await deleteSchedule(ctx.temporal, id).catch(() => undefined);
    await ctx.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function cli(args: string[]): Promise<CliResult> {
    return await runCli(args, workerEnvFor(ctx), 120_000);
  }

  /** Starts a slow run of `id` over 40 rows and waits until some of them were sent. */
  async function slowRun(id: string, prefix: string): Promise<string> {
    await createOrdersTable(ctx, `${id.replace(/-/g, '_')}_orders`, Array.from({ length: 40 }, (_, index) => segmentRow(prefix, index + 1)));
    await saveServiceActivation(ctx, id, { kind: 'table', schema: 'shop', name: `${id.replace(/-/g, '_')}_orders` }, { activation: { concurrency: 1 } });
    await ctx.client.ensureSchedule(id);
    const run = await ctx.client.start(id);
    await waitFor(`the first invitations of ${id}`, () => Promise.resolve(acceptedReferences(ctx, prefix).length >= 3 ? true : undefined), 60_000, 50);
    return run.workflowId;
  }

  async function ledgerStatuses(id: string): Promise<Record<string, number>> {
    const rows = await ctx.db
      .selectFrom('app.ledger')
      .select(['status', (eb) => eb.fn.countAll<string>().as('n')])
      .where('activation_id', '=', id)
      .groupBy('status')
      .execute();
    return Object.fromEntries(rows.map((row) => [row.status, Number(row.n)]));
  }

  it('`delete activation --yes` ends its run in progress; nothing more is sent; the unsent rows wait in the ledger', async () => {
    const workflowId = await slowRun('del-cli', 'DC');
    const deleted = await cli(['delete', 'activation', 'del-cli', '--yes']);
    const sentAtDelete = acceptedReferences(ctx, 'DC').length;
    const summary = await waitToEnd(ctx, workflowId);
    // Another few seconds: were it still going, more would arrive at its pace (one per 400 ms).
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const sentAfter = acceptedReferences(ctx, 'DC').length;
    const statuses = await ledgerStatuses('del-cli');
    console.log(`delete mid-run: ${deleted.stdout.trim()} | run ${summary.status}/${summary.failureKind}, sent ${summary.sent}; accepted ${sentAtDelete} at delete, ${sentAfter} after; ledger ${JSON.stringify(statuses)}`);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stdout).toMatch(/stopped run \d+/);
    expect(summary.status).not.toBe('succeeded');
    // At most the one call in flight at the delete completes.
    expect(sentAfter - sentAtDelete).toBeLessThanOrEqual(1);
    expect(sentAfter).toBeLessThan(40);
    expect(new Set(acceptedReferences(ctx, 'DC')).size).toBe(sentAfter);
    expect((statuses.sent ?? 0) + (statuses.pending ?? 0) + (statuses.new ?? 0) + (statuses.failed ?? 0)).toBe(40);
    expect(statuses.sent).toBe(sentAfter);

    // recover works on the deleted activation (nothing is left to end).
    const recovered = await cli(['recover', 'del-cli', '--yes']);
    expect(recovered.code, recovered.stderr).toBe(0);
    expect(recovered.stdout + recovered.stderr).not.toMatch(/does not exist/);
  });

  it('`apply --prune` of a folder without the activation stops its run the same way', async () => {
    const workflowId = await slowRun('del-prune', 'DP');
    // The folder keeps one other activation (and the destinations), so the prune deletes only this one.
    await createOrdersTable(ctx, 'del_keep_orders', [segmentRow('DK', 1)]);
    await writeFile(join(dir, 'config.json'), JSON.stringify({
      destinations: ['del-cli', 'del-prune', 'del-keep'].map((id) => serviceDestination(id)),
      activations: [orderActivation('del-keep', 'del-keep', { kind: 'table', schema: 'shop', name: 'del_keep_orders' })],
    }));
    const applied = await cli(['apply', dir, '--prune', '--yes']);
    const sentAtPrune = acceptedReferences(ctx, 'DP').length;
    const summary = await waitToEnd(ctx, workflowId);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const sentAfter = acceptedReferences(ctx, 'DP').length;
    console.log(`prune mid-run: exit ${applied.code}; run ${summary.status}, accepted ${sentAtPrune} at prune, ${sentAfter} after: ${applied.stdout.split('\n').filter((line) => line.includes('stopped')).join(' | ')}`);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    expect(applied.stdout).toMatch(/stopped run \d+ .* of a pruned activation/);
    expect(summary.status).not.toBe('succeeded');
    expect(sentAfter - sentAtPrune).toBeLessThanOrEqual(1);
    expect(sentAfter).toBeLessThan(40);
  });
});
