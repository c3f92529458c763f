import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { sql } from 'kysely';
import { inject } from 'vitest';
import type pg from 'pg';
import type { ActivityDeps } from '../../src/activities/index.ts';
import { InvitationsClient, RunFailedError, RunOverlapError, isWorkflowOpen } from '../../src/client.ts';
import { saveActivation, saveDestination, setPausedNote } from '../../src/db/config-store.ts';
import { createAppDatabase, createUntypedDb, type AppDb, type UntypedDb } from '../../src/db/database.ts';
import { claimDeployment } from '../../src/db/deployment.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { createDatabaseIfMissing, databaseUrl, ensureReaderRole, grantSchemaToReader } from '../../src/dev/embedded-postgres.ts';
import { FAKE_DEFAULTS, startFakeTrustpilot, type FakeTrustpilot, type FakeTrustpilotOptions } from '../../src/fake-trustpilot/server.ts';
import { createAppWorker } from '../../src/runtime/worker.ts';
import { PostgresSource, PostgresWarehouse, type WarehouseOptions as PostgresWarehouseOptions } from '../../src/source/postgres/index.ts';
import type { WarehouseLookup } from '../../src/source/types.ts';
import { Warehouses, warehouseConfigsFrom } from '../../src/source/warehouses.ts';
import { setSchedulePaused } from '../../src/temporal/schedules.ts';
import { occupyMachine } from './machine-lock.ts';
import type { RunSummary } from '../../src/run/types.ts';
import { installTelemetry } from '../../src/runtime/telemetry.ts';
import { readEnv } from '../../src/config/env.ts';

// Runs fail on purpose here; the SDK's warnings about it would bury the results.
installTelemetry({ logLevel: readEnv({ TEMPORAL_LOG_LEVEL: process.env.TEMPORAL_LOG_LEVEL }).TEMPORAL_LOG_LEVEL ?? 'ERROR' });

export interface TestContext {
  databaseUrl: string;
  /** the same database as the least-privilege reader role: what the worker reads segments with */
  readerUrl: string;
  db: AppDb;
  appPool: pg.Pool;
  /** the test database as its administrator: creates and fills the segments' tables */
  warehouseAdmin: UntypedDb;
  /** segments as the worker reads them: the reader role */
  /** the default warehouse's Postgres connection as the reader role, for reading it directly */
  warehouse: PostgresWarehouse;
  /** every warehouse the test's workers read: `default` (the reader on the test database) and those of `warehouseEnv` */
  warehouses: Warehouses;
  deploymentId: string;
  temporal: Client;
  taskQueue: string;
  namespace: string;
  fake: FakeTrustpilot;
  client: InvitationsClient;
  /** credentials as the worker's environment would hold them */
  workerEnv: NodeJS.ProcessEnv;
  activityDeps(overrides?: Partial<ActivityDeps>): ActivityDeps;
  startWorker(overrides?: Partial<ActivityDeps>): Promise<Worker>;
  close(): Promise<void>;
}

/** A database and a task queue of its own, on the run's shared Postgres and Temporal servers. */
export async function createTestContext(
  name: string,
  fakeOptions: FakeTrustpilotOptions = {},
  /**
   * `postgresAdminUrl`: another Postgres server than the run's shared one (e.g. one a test restarts);
   * `machine: 'exclusive'`: no other test file runs while this context is open (rate measurements)
   */
  options: { postgresAdminUrl?: string; machine?: 'exclusive'; warehouseEnv?: NodeJS.ProcessEnv } = {},
): Promise<TestContext> {
  const releaseMachine = await occupyMachine(options.machine ?? 'shared');
  try {
    return await openTestContext(name, fakeOptions, options, releaseMachine);
  } catch (error) {
    await releaseMachine();
    throw error;
  }
}

async function openTestContext(
  name: string,
  fakeOptions: FakeTrustpilotOptions,
  options: { postgresAdminUrl?: string; warehouseEnv?: NodeJS.ProcessEnv },
  releaseMachine: () => Promise<void>,
): Promise<TestContext> {
  const suffix = randomBytes(4).toString('hex');
  const database = `t_${name.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${suffix}`;
  const adminUrl = options.postgresAdminUrl ?? inject('postgresAdminUrl');
  await createDatabaseIfMissing(adminUrl, database);
  if (options.postgresAdminUrl) await ensureReaderRole(adminUrl, inject('reader').user, inject('reader').password);
  const url = databaseUrl(adminUrl, database);
  const readerUrl = databaseUrl(adminUrl, database, inject('reader'));
  const { db, pool: appPool } = createAppDatabase(url);
  await migrateToLatest(db);
  const { deploymentId } = await claimDeployment(db, 'production');
  // Test segments live in schema `shop`, readable by the reader role (the app schema is not).
  await grantSchemaToReader(url, 'shop', inject('reader').user);
  const warehouseAdmin = createUntypedDb(url);
  const warehouse = new PostgresWarehouse(readerUrl);
  const warehouseEnv: NodeJS.ProcessEnv = { ...options.warehouseEnv, WAREHOUSE_DATABASE_URL: readerUrl };
  const warehouses = new Warehouses(warehouseConfigsFrom(warehouseEnv), { env: warehouseEnv });

  const connection = await Connection.connect({ address: inject('temporalAddress') });
  const namespace = 'default';
  const temporal = new Client({ connection, namespace });
  const taskQueue = `test-${name}-${suffix}`;
  const fake = await startFakeTrustpilot(fakeOptions);
  const workerEnv: NodeJS.ProcessEnv = {
    TRUSTPILOT_API_KEY: FAKE_DEFAULTS.apiKey,
    TRUSTPILOT_API_SECRET: FAKE_DEFAULTS.apiSecret,
    TRUSTPILOT_BUSINESS_USER_ID: FAKE_DEFAULTS.businessUserId,
    TRUSTPILOT_USERNAME: FAKE_DEFAULTS.username,
    TRUSTPILOT_PASSWORD: FAKE_DEFAULTS.password,
  };
  const client = new InvitationsClient({ temporal, db, taskQueue });
  const nativeConnections: NativeConnection[] = [];
  const workers: { worker: Worker; running: Promise<void> }[] = [];

  const activityDeps = (overrides: Partial<ActivityDeps> = {}): ActivityDeps => ({
    db,
    appPool,
    warehouses,
    trustpilot: { apiUrl: fake.apiUrl, invitationsApiUrl: fake.invitationsApiUrl, timeoutMs: 5_000 },
    env: workerEnv,
    isWorkflowOpen: (workflowId) => isWorkflowOpen(temporal, workflowId),
    schedules: {
      async pause(activationId, note) {
        await setPausedNote(db, activationId, note);
        await setSchedulePaused(temporal, activationId, true, note);
      },
    },
    ...overrides,
  });

  return {
    databaseUrl: url,
    readerUrl,
    db,
    appPool,
    warehouseAdmin,
    warehouse,
    warehouses,
    deploymentId,
    temporal,
    taskQueue,
    namespace,
    fake,
    client,
    workerEnv,
    activityDeps,
    async startWorker(overrides = {}) {
      const nativeConnection = await NativeConnection.connect({ address: inject('temporalAddress') });
      nativeConnections.push(nativeConnection);
      const worker = await createAppWorker({
        connection: nativeConnection,
        namespace,
        taskQueue,
        deps: activityDeps(overrides),
        workflowBundle: { code: inject('workflowCode') },
      });
      workers.push({ worker, running: worker.run() });
      return worker;
    },
    async close() {
      try {
        for (const { worker, running } of workers) {
          if (worker.getState() === 'RUNNING') worker.shutdown();
          await running.catch(() => undefined);
        }
        for (const nativeConnection of nativeConnections) await nativeConnection.close();
        await fake.close();
        await connection.close();
        await warehouses.close();
        await warehouseAdmin.destroy();
        await db.destroy();
      } finally {
        await releaseMachine();
      }
    },
  };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Waits until `count` runs of the activation have finished, and returns them oldest first. */
export async function waitForFinishedRuns(ctx: TestContext, activationId: string, count: number, timeoutMs?: number): Promise<RunSummary[]> {
  return await waitFor(
    `${count} finished run(s) of ${activationId}`,
    async () => {
      const runs = (await ctx.client.runs({ activationId, limit: 100 })).filter((run) => run.finishedAt !== null).reverse();
      return runs.length >= count ? runs : undefined;
    },
    timeoutMs,
  );
}

export async function createOrdersTable(ctx: TestContext, table: string, rows: Record<string, unknown>[]): Promise<void> {
  await ctx.warehouseAdmin.schema
    .withSchema('shop')
    .createTable(table)
    .addColumn('order_id', 'text', (col) => col.primaryKey())
    .addColumn('customer_name', 'text')
    .addColumn('customer_email', 'text')
    .addColumn('locale', 'text')
    .addColumn('sku', 'text')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  if (rows.length > 0) await ctx.warehouseAdmin.insertInto(`shop.${table}`).values(rows).execute();
}

/** Runs an activation now and returns its summary, whether it succeeded, failed or was skipped. */
export async function runToEnd(ctx: TestContext, activationId: string): Promise<RunSummary> {
  return await summaryOf(ctx.client.run(activationId));
}

/** Waits for a started run and returns its summary, whatever its outcome. */
export async function waitToEnd(ctx: TestContext, workflowId: string): Promise<RunSummary> {
  return await summaryOf(ctx.client.waitForRun(workflowId));
}

async function summaryOf(outcome: Promise<RunSummary>): Promise<RunSummary> {
  try {
    return await outcome;
  } catch (error) {
    if (error instanceof RunFailedError || error instanceof RunOverlapError) return error.summary;
    throw error;
  }
}

export function order(index: number, createdAt = new Date()): Record<string, unknown> {
  return {
    order_id: `O-${String(index).padStart(6, '0')}`,
    customer_name: `Customer ${index}`,
    customer_email: `customer${index}@shop.example.com`,
    locale: 'en-GB',
    sku: `SKU-${index % 7}`,
    created_at: createdAt,
  };
}

/**
 * A segment row for `createOrdersTable` whose key, name and email all carry `prefix`, so that
 * tests sharing a fake Trustpilot can tell their invitations apart (e.g. 'LC-003').
 */
export function segmentRow(prefix: string, index: number, createdAt = new Date()): Record<string, unknown> {
  return {
    order_id: `${prefix}-${String(index).padStart(3, '0')}`,
    customer_name: `Buyer ${prefix} ${index}`,
    customer_email: `${prefix.toLowerCase()}.${index}@shop.example.com`,
    locale: 'en-GB',
    sku: `SKU-${index % 7}`,
    created_at: createdAt,
  };
}

/** Reference numbers the fake accepted that start with `prefix-`, in arrival order (repeats included). */
export function acceptedReferences(ctx: TestContext, prefix: string): string[] {
  return ctx.fake
    .accepted()
    .map((invitation) => invitation.body.referenceNumber)
    .filter((reference) => reference.startsWith(`${prefix}-`));
}

/** The activation's ledger as row key -> status and reason. */
export async function ledgerByKey(
  ctx: TestContext,
  activationId: string,
): Promise<Map<string, { status: string; errorClass: string | null; errorMessage: string | null }>> {
  const rows = await ctx.db
    .selectFrom('app.ledger')
    .select(['row_key', 'status', 'error_class', 'error_message'])
    .where('activation_id', '=', activationId)
    .orderBy('id')
    .execute();
  return new Map(rows.map((row) => [row.row_key, { status: row.status, errorClass: row.error_class, errorMessage: row.error_message }]));
}

/**
 * A workflow history as searchable text, every payload decoded. Payload bytes must be decoded
 * before JSON.stringify: history events are protobuf messages and payload data are Buffers, whose
 * own toJSON would turn them into base64 or byte arrays before a replacer could see them.
 */
export function historyText(history: unknown): string {
  const decode = (value: unknown): unknown => {
    if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
    if (Array.isArray(value)) return value.map(decode);
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, decode(entry)]));
    return value;
  };
  return JSON.stringify(decode(history));
}

/** The columns every test segment has, mapped onto the required invitation fields. */
export const ORDER_MAPPING = { consumerName: 'customer_name', consumerEmail: 'customer_email', referenceNumber: 'order_id' } as const;

/** A rate limit far above what any run here reaches: pacing is not under test where it is used. */
export const FAST_RATE_LIMIT = { calls: 100_000, perSeconds: 1 } as const;

/**
 * The destination settings that keep pacing out of the way. Destinations on one API key share one
 * allowance and must name the same limit, and every destination here uses the fake's key: hence one for all.
 */
export const FAST_PACING = { rateLimit: FAST_RATE_LIMIT } as const;

/** A destination of service invitations to the fake's business unit; `extra` goes on top. */
export function serviceDestination(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, businessUnitId: FAKE_DEFAULTS.businessUnitId, invitationType: 'service', ...extra };
}

/**
 * An activation over `source` (a table of `createOrdersTable`'s columns, or a query of them), keyed
 * by order_id, on a schedule far enough apart that only the test starts runs; `extra` goes on top.
 */
export function orderActivation(id: string, destinationId: string, source: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, destinationId, source, primaryKey: 'order_id', mapping: ORDER_MAPPING, schedule: { every: '1d' }, ...extra };
}

/**
 * Saves a service destination and an activation of the same id over `source`, keyed by order_id,
 * on a schedule far enough apart that only the test starts runs; overrides go on top.
 */
export async function saveServiceActivation(
  ctx: TestContext,
  id: string,
  source: Record<string, unknown>,
  overrides: { destination?: Record<string, unknown>; activation?: Record<string, unknown> } = {},
): Promise<void> {
  await saveDestination(ctx.db, serviceDestination(id, overrides.destination));
  await saveActivation(ctx.db, orderActivation(id, id, source, overrides.activation));
}

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
/** The compiled command line, as `npm run cli` runs it (the global setup brings dist/ up to date). */
const cliEntry = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** What a command line process did: its arguments, exit code and output. */
export interface CliResult {
  args: string[];
  code: number | null;
  stdout: string;
  stderr: string;
}

const runningCli = new Set<ChildProcess>();

/**
 * Starts `node dist/cli/main.js ...args` from the repository with exactly `env`. Its output is
 * piped, so it is not on a terminal; it is SIGKILLed after `timeoutMs`. `stdout()` is what it
 * printed so far, for a test that watches a command still running.
 */
export function startCli(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): { stdout: () => string; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [cliEntry, ...args], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  runningCli.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      runningCli.delete(child);
      resolve({ args, code, stdout, stderr });
    });
  });
  return { stdout: () => stdout, done };
}

/** Runs the command line to its end; see `startCli`. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv, timeoutMs?: number): Promise<CliResult> {
  return await startCli(args, env, timeoutMs).done;
}

/** SIGKILLs every command line process still running (afterAll). */
export function killCliProcesses(): void {
  for (const child of runningCli) child.kill('SIGKILL');
}

/** The one warehouse `default`: a Postgres reader at `url` (a worker of a test reading as another role). */
export function postgresWarehouse(url: string, options: PostgresWarehouseOptions = {}): WarehouseLookup {
  const source = new PostgresSource('default', url, options);
  return {
    get(name = 'default') {
      if (name !== 'default') throw new Error(`only the default warehouse is configured here, not '${name}'`);
      return source;
    },
  };
}
