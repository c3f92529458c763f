/**
 * Records the workflow histories the replay test (test/unit/replay.test.ts) replays: real runs of
 * the current workflow code on real Postgres, a real Temporal dev server and the fake Trustpilot.
 *   npx tsx scripts/record-histories.ts
 * Run it, and commit test/replay/histories/, after a workflow change that is meant to be
 * incompatible (and then only once no run of the old code is open anywhere); a compatible change
 * must replay the committed histories unchanged (see README, "Deploying safely").
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { execFileSync } from 'node:child_process';
import { NativeConnection } from '@temporalio/worker';
import { sql } from 'kysely';
import { InvitationsClient, isWorkflowOpen } from '../src/client.ts';
import { saveActivation, saveDestination, setPausedNote } from '../src/db/config-store.ts';
import { createAppDatabase, createUntypedDb } from '../src/db/database.ts';
import { claimDeployment } from '../src/db/deployment.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { databaseUrl, ensureReaderRole, grantSchemaToReader, startScratchPostgres } from '../src/dev/embedded-postgres.ts';
import { freePort } from '../src/dev/free-port.ts';
import { findTemporalCli } from '../src/dev/temporal-cli.ts';
import { startDevTemporalServer } from '../src/dev/temporal-server.ts';
import { FAKE_DEFAULTS, startFakeTrustpilot } from '../src/fake-trustpilot/server.ts';
import { installTelemetry } from '../src/runtime/telemetry.ts';
import { createAppWorker } from '../src/runtime/worker.ts';
import { postgresWarehouseLookup } from '../src/source/warehouses.ts';
import { setSchedulePaused } from '../src/temporal/schedules.ts';

const OUTPUT = fileURLToPath(new URL('../test/replay/histories/', import.meta.url));
const READER = { user: 'replay_reader', password: 'replay-reader' };

installTelemetry({ logLevel: 'ERROR' });
const postgres = await startScratchPostgres();
// Continue-as-new early, so a short run records several executions.
const temporalServer = await startDevTemporalServer({ port: await freePort(), dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 300 } });
const fake = await startFakeTrustpilot({ rateLimit: null });
const connection = await Connection.connect({ address: temporalServer.address });
const temporal = new Client({ connection });
const native = await NativeConnection.connect({ address: temporalServer.address });
const url = databaseUrl(postgres.adminUrl, 'postgres');
await ensureReaderRole(postgres.adminUrl, READER.user, READER.password);
const { db, pool } = createAppDatabase(url);
const admin = createUntypedDb(url);
try {
  await migrateToLatest(db);
  await claimDeployment(db, 'production');
  await grantSchemaToReader(url, 'shop', READER.user);
  await sql`create table shop.orders as select 'R-' || lpad(n::text, 4, '0') as order_id, 'Customer ' || n as customer_name,
            case when n % 50 = 7 then 'not-an-address' else 'replay' || n || '@shop.example.com' end as customer_email
            from generate_series(1, 160) n`.execute(admin);
  const taskQueue = 'replay';
  const worker = await createAppWorker({
    connection: native,
    namespace: 'default',
    taskQueue,
    deps: {
      db,
      appPool: pool,
      warehouses: postgresWarehouseLookup(databaseUrl(postgres.adminUrl, 'postgres', READER)),
      trustpilot: { apiUrl: fake.apiUrl, invitationsApiUrl: fake.invitationsApiUrl, timeoutMs: 5_000 },
      env: { TRUSTPILOT_API_KEY: FAKE_DEFAULTS.apiKey, TRUSTPILOT_API_SECRET: FAKE_DEFAULTS.apiSecret, TRUSTPILOT_BUSINESS_USER_ID: FAKE_DEFAULTS.businessUserId, WRONG_USER: 'not-a-business-user' },
      isWorkflowOpen: (workflowId) => isWorkflowOpen(temporal, workflowId),
      schedules: {
        async pause(activationId, note) {
          await setPausedNote(db, activationId, note);
          await setSchedulePaused(temporal, activationId, true, note).catch(() => undefined);
        },
      },
      claimBatchSize: 40,
    },
  });
  const client = new InvitationsClient({ temporal, db, taskQueue });
  const activation = (id: string, destinationId: string, table = 'orders') => ({
    id,
    destinationId,
    source: { kind: 'table', schema: 'shop', name: table },
    primaryKey: 'order_id',
    mapping: { consumerName: 'customer_name', consumerEmail: 'customer_email', referenceNumber: 'order_id' },
    schedule: { every: '1d' },
    concurrency: 4,
  });
  await saveDestination(db, { id: 'replay', businessUnitId: FAKE_DEFAULTS.businessUnitId, invitationType: 'service', rateLimit: { calls: 100_000, perSeconds: 1 } });
  await saveDestination(db, {
    id: 'replay-wrong-user',
    businessUnitId: FAKE_DEFAULTS.businessUnitId,
    invitationType: 'service',
    rateLimit: { calls: 100_000, perSeconds: 1 },
    credentials: { grant: 'client_credentials', businessUserIdEnv: 'WRONG_USER' },
  });
  await saveDestination(db, { id: 'replay-breaker', businessUnitId: FAKE_DEFAULTS.businessUnitId, invitationType: 'service', rateLimit: { calls: 100_000, perSeconds: 1 }, circuitBreaker: { failuresInARow: 3 } });
  await saveActivation(db, activation('sends', 'replay'));
  await saveActivation(db, activation('misconfigured', 'replay-wrong-user'));
  await saveActivation(db, activation('missing-table', 'replay', 'no_such_table'));
  await saveActivation(db, activation('breaker', 'replay-breaker'));

  const recorded: string[] = [];
  async function record(name: string, workflowId: string): Promise<void> {
    let execution = 0;
    const runs: string[] = [];
    for await (const listed of temporal.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(listed.runId);
    // Oldest first: the list is newest first.
    // The Temporal CLI writes histories in the JSON form the SDK's replayer reads (and the UI exports).
    const cli = findTemporalCli();
    if (!('path' in cli)) throw new Error('the Temporal CLI is needed to export histories: run `npm run setup`');
    for (const runId of runs.reverse()) {
      const json = execFileSync(cli.path, ['workflow', 'show', '--address', temporalServer.address, '--workflow-id', workflowId, '--run-id', runId, '--output', 'json'], {
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      });
      const file = `${name}-${++execution}.json`;
      writeFileSync(`${OUTPUT}${file}`, json.endsWith('\n') ? json : `${json}\n`);
      recorded.push(file);
    }
  }
  async function outcome(handle: Awaited<ReturnType<InvitationsClient['start']>>): Promise<void> {
    await handle.workflow.result().catch((error: unknown) => {
      if (!(error instanceof WorkflowFailedError)) throw error;
    });
  }

  rmSync(OUTPUT, { recursive: true, force: true });
  mkdirSync(OUTPUT, { recursive: true });
  await worker.runUntil(async () => {
    // Sends with retries (5xx now and then), rejected rows, several batches and continue-as-new,
    // while a second start of the same activation is skipped.
    fake.setFaults({ errorRates: { 503: 0.1 } });
    const sends = await client.start('sends');
    const skipped = await client.start('sends');
    await outcome(skipped);
    await outcome(sends);
    fake.setFaults({});
    await record('sends-with-retries-and-continue-as-new', sends.workflowId);
    await record('skipped-while-another-runs', skipped.workflowId);
    // Stops at once on a misconfiguration (403 errorCode 1014), and on a missing source table.
    const misconfigured = await client.start('misconfigured');
    await outcome(misconfigured);
    await record('misconfigured-business-user', misconfigured.workflowId);
    const missing = await client.start('missing-table');
    await outcome(missing);
    await record('missing-source-table', missing.workflowId);
    // The circuit breaker against a Trustpilot that answers 503 to everything.
    fake.setFaults({ errorRates: { 503: 1 } });
    const breaker = await client.start('breaker');
    await outcome(breaker);
    fake.setFaults({});
    await record('circuit-breaker', breaker.workflowId);
  });
  console.log(`recorded ${recorded.length} histories in test/replay/histories/: ${recorded.join(', ')}`);
} finally {
  await admin.destroy();
  await db.destroy();
  await native.close();
  await connection.close();
  await fake.close();
  await temporalServer.stop();
  await postgres.dispose();
}
