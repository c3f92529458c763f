import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { acceptedReferences, createOrdersTable, createTestContext, ledgerByKey, runToEnd, saveServiceActivation, segmentRow, type TestContext } from './harness.ts';

/** The Postgres majors the product supports: the run provides a server of the oldest, and its shared one. */
const OLDEST_SUPPORTED = 14;
const NEWEST_SUPPORTED = 18;
const ROWS = 12;

const servers = inject('boundaryServers');

it('runs the boundary tests on the oldest supported Postgres', () => {
  expect(servers.map((server) => server.expectedMajor)).toContain(OLDEST_SUPPORTED);
});

for (const server of servers) {
  describe(`the product on ${server.label}`, () => {
    let ctx: TestContext;

    beforeAll(async () => {
      ctx = await createTestContext('postgres-versions', { rateLimit: null }, { postgresAdminUrl: server.adminUrl });
      await ctx.startWorker();
    });
    afterAll(async () => {
      await ctx.close();
    });

    it('is connected to a server of that major', async () => {
      const { rows } = await sql<{ server_version_num: string }>`show server_version_num`.execute(ctx.db);
      const major = Math.floor(Number(rows[0]?.server_version_num) / 10_000);
      expect(major).toBeGreaterThanOrEqual(OLDEST_SUPPORTED);
      expect(major).toBeLessThanOrEqual(NEWEST_SUPPORTED);
      if (server.expectedMajor !== undefined) expect(major).toBe(server.expectedMajor);
      expect(server.label).toMatch(new RegExp(`^Postgres ${major}\\.`));
    });

    it('migrates, detects and sends every row of a segment', async () => {
      const prefix = 'PV';
      await createOrdersTable(ctx, 'versions_orders', Array.from({ length: ROWS }, (_, index) => segmentRow(prefix, index + 1)));
      await saveServiceActivation(ctx, 'postgres-versions', { kind: 'table', schema: 'shop', name: 'versions_orders' }, {
        destination: { rateLimit: { calls: 1_000, perSeconds: 1 } },
      });

      const summary = await runToEnd(ctx, 'postgres-versions');

      expect(summary).toMatchObject({ status: 'succeeded', sourceRows: ROWS, newRows: ROWS, sent: ROWS, failed: 0, rejected: 0 });
      const ledger = await ledgerByKey(ctx, 'postgres-versions');
      expect([...ledger.values()].map((row) => row.status)).toEqual(Array.from({ length: ROWS }, () => 'sent'));
      expect(new Set(acceptedReferences(ctx, prefix)).size).toBe(ROWS);
    });
  });
}
