/**
 * End-to-end throughput of activation runs: real Postgres, real Temporal dev server, the fake
 * Trustpilot over HTTP. Prints JSON figures; asserts nothing.
 *   npm run bench -- [rows=5000] [concurrency=50] [rateLimitPerSecond=0 (off)]
 * With a rate limit, it also reports how much of the allowance the run used and any 429s.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { sql } from 'kysely';
import { InvitationsClient, isWorkflowOpen } from '../src/client.ts';
import { saveActivation, saveDestination } from '../src/db/config-store.ts';
import { createAppDb, createWarehouseDb } from '../src/db/database.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { createDatabaseIfMissing, startScratchPostgres } from '../src/dev/embedded-postgres.ts';
import { startDevTemporalServer } from '../src/dev/temporal-server.ts';
import { FAKE_DEFAULTS, startFakeTrustpilot } from '../src/fake-trustpilot/server.ts';
import { createAppWorker } from '../src/runtime/worker.ts';
import { installTemporalLogging } from '../src/runtime/temporal-logging.ts';

const rows = Number(process.argv[2] ?? 5_000);
const concurrency = Number(process.argv[3] ?? 50);
const ratePerSecond = Number(process.argv[4] ?? 0);

async function main(): Promise<void> {
  installTemporalLogging('ERROR');
  const cleanups: (() => Promise<void>)[] = [];
  try {
    let adminUrl = process.env.DATABASE_URL;
    if (!adminUrl) {
      const postgres = await startScratchPostgres();
      cleanups.push(() => postgres.dispose());
      adminUrl = postgres.adminUrl;
    }
    const database = `bench_${Date.now()}`;
    await createDatabaseIfMissing(adminUrl, database);
    const url = new URL(adminUrl);
    url.pathname = `/${database}`;
    const db = createAppDb(url.toString(), { max: 30 });
    cleanups.push(() => db.destroy());
    await migrateToLatest(db);
    const warehouse = createWarehouseDb(url.toString());
    cleanups.push(() => warehouse.destroy());

    const temporalServer = await startDevTemporalServer();
    cleanups.push(() => temporalServer.stop());
    const fake = await startFakeTrustpilot({ rateLimit: ratePerSecond > 0 ? { limit: ratePerSecond * 10, windowSeconds: 10 } : null });
    cleanups.push(() => fake.close());

    await sql`create schema shop`.execute(db);
    await sql`
      create table shop.segment as
      select 'R-' || lpad(n::text, 7, '0') as order_id, 'Customer ' || n as customer_name,
             'bench' || n || '@shop.example.com' as customer_email
      from generate_series(1, ${rows}) as n
    `.execute(db);
    await sql`alter table shop.segment add primary key (order_id)`.execute(db);
    await saveDestination(db, {
      id: 'bench',
      businessUnitId: FAKE_DEFAULTS.businessUnitId,
      invitationType: 'service',
      rateLimit: ratePerSecond > 0 ? { calls: ratePerSecond * 10, perSeconds: 10 } : { calls: 1_000_000, perSeconds: 1 },
    });
    await saveActivation(db, {
      id: 'bench',
      destinationId: 'bench',
      source: { kind: 'table', schema: 'shop', name: 'segment' },
      primaryKey: 'order_id',
      mapping: { consumerName: 'customer_name', consumerEmail: 'customer_email', referenceNumber: 'order_id' },
      schedule: { every: '1d' },
      concurrency,
    });

    const connection = await Connection.connect({ address: temporalServer.address });
    cleanups.push(() => connection.close());
    const temporal = new Client({ connection });
    const nativeConnection = await NativeConnection.connect({ address: temporalServer.address });
    cleanups.push(() => nativeConnection.close());
    const taskQueue = 'bench';
    const worker = await createAppWorker({
      connection: nativeConnection,
      namespace: 'default',
      taskQueue,
      deps: {
        db,
        warehouse,
        trustpilot: { apiUrl: fake.apiUrl, invitationsApiUrl: fake.invitationsApiUrl },
        env: {
          TRUSTPILOT_API_KEY: FAKE_DEFAULTS.apiKey,
          TRUSTPILOT_API_SECRET: FAKE_DEFAULTS.apiSecret,
          TRUSTPILOT_BUSINESS_USER_ID: FAKE_DEFAULTS.businessUserId,
        },
        isWorkflowOpen: (workflowId) => isWorkflowOpen(temporal, workflowId),
      },
    });
    const client = new InvitationsClient({ temporal, db, taskQueue });
    const summary = await worker.runUntil(async () => {
      const started = performance.now();
      const result = await client.runNow('bench');
      return { ...result, seconds: (performance.now() - started) / 1000 };
    });
    const stats = fake.stats();
    console.log(
      JSON.stringify(
        {
          rows,
          concurrency,
          rateLimitPerSecond: ratePerSecond || null,
          status: summary.status,
          sent: summary.sent,
          seconds: Number(summary.seconds.toFixed(2)),
          rowsPerSecond: Number((summary.sent / summary.seconds).toFixed(1)),
          allowanceUsed: ratePerSecond > 0 ? Number((summary.sent / summary.seconds / ratePerSecond).toFixed(3)) : null,
          responses: stats.byStatus,
          duplicates: fake.duplicates().length,
        },
        null,
        2,
      ),
    );
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  }
}

await main();
