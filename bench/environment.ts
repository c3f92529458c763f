import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { sql } from 'kysely';
import { InvitationsClient } from '../src/client.ts';
import { saveActivation, saveDestination } from '../src/db/config-store.ts';
import { createAppDatabase, type AppDatabase } from '../src/db/database.ts';
import { claimDeployment } from '../src/db/deployment.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { createDatabaseIfMissing, databaseUrl, ensureReaderRole, grantSchemaToReader, startScratchPostgres } from '../src/dev/embedded-postgres.ts';
import { freePort } from '../src/dev/free-port.ts';
import { startDevTemporalServer } from '../src/dev/temporal-server.ts';
import { FAKE_DEFAULTS, startFakeTrustpilot, type FakeTrustpilot } from '../src/fake-trustpilot/server.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
export const READER = { user: 'bench_reader', password: 'bench-reader' };

/**
 * How the worker runs in production (package.json's `worker` script, the Dockerfile): the same here,
 * for the app's worker and the no-op ceiling's alike. A young generation of 8 MB per semi-space:
 * at 4 MB a send spent about 0.4 ms more of CPU collecting garbage, at 16 MB peak RSS passed 250 MiB.
 */
export const WORKER_NODE_FLAGS = ['--max-old-space-size=160', '--max-semi-space-size=8'];

/** One Postgres, one Temporal dev server and one fake Trustpilot for the whole benchmark, on ports picked and bound at once. */
export interface BenchEnvironment {
  adminUrl: string;
  temporalAddress: string;
  temporal: Client;
  fake: FakeTrustpilot;
  close(): Promise<void>;
}

export async function startEnvironment(): Promise<BenchEnvironment> {
  const cleanups: (() => Promise<void>)[] = [];
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const postgres = await startScratchPostgres();
    cleanups.push(() => postgres.dispose());
    adminUrl = postgres.adminUrl;
  }
  await ensureReaderRole(adminUrl, READER.user, READER.password);
  const port = await freePort();
  const metricsPort = await freePort();
  const server = await startDevTemporalServer({ port, extraArgs: ['--metrics-port', String(metricsPort)] });
  cleanups.push(() => server.stop());
  const connection = await Connection.connect({ address: server.address });
  cleanups.push(() => connection.close());
  // The fake listens on a port the OS picks as it binds: nothing can take it in between.
  const fake = await startFakeTrustpilot({ rateLimit: null });
  cleanups.push(() => fake.close());
  return {
    adminUrl,
    temporalAddress: server.address,
    temporal: new Client({ connection }),
    fake,
    async close() {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    },
  };
}

/** A database of its own for one scenario: the app schema, a `shop` schema the reader role reads. */
export interface Scenario {
  name: string;
  url: string;
  readerUrl: string;
  app: AppDatabase;
  taskQueue: string;
  client: InvitationsClient;
  close(): Promise<void>;
}

export async function createScenario(env: BenchEnvironment, name: string): Promise<Scenario> {
  const database = `bench_${name.replace(/[^a-z0-9]/gi, '_')}_${Date.now()}`;
  await createDatabaseIfMissing(env.adminUrl, database);
  const url = databaseUrl(env.adminUrl, database);
  const app = createAppDatabase(url, { max: 8 });
  await migrateToLatest(app.db);
  await claimDeployment(app.db, 'production');
  await grantSchemaToReader(url, 'shop', READER.user);
  const taskQueue = `bench-${name}`;
  return {
    name,
    url,
    readerUrl: databaseUrl(env.adminUrl, database, READER),
    app,
    taskQueue,
    client: new InvitationsClient({ temporal: env.temporal, db: app.db, taskQueue }),
    close: () => app.db.destroy(),
  };
}

/** A segment of `rows` customers, keyed by order id, and a service activation over it. */
export async function createSegment(scenario: Scenario, rows: number, activation: { concurrency?: number; rateLimit?: { calls: number; perSeconds: number } } = {}): Promise<void> {
  await sql`
    create table shop.segment as
    select 'R-' || lpad(n::text, 8, '0') as order_id, 'Customer ' || n as customer_name,
           'bench' || n || '@shop.example.com' as customer_email, now() - make_interval(secs => ${rows} - n) as created_at
      from generate_series(1, ${rows}) as n`.execute(scenario.app.db);
  await sql`alter table shop.segment add primary key (order_id)`.execute(scenario.app.db);
  await sql`analyze shop.segment`.execute(scenario.app.db);
  await saveDestination(scenario.app.db, {
    id: 'bench',
    businessUnitId: FAKE_DEFAULTS.businessUnitId,
    invitationType: 'service',
    rateLimit: activation.rateLimit ?? { calls: 1_000_000, perSeconds: 1 },
  });
  await saveActivation(scenario.app.db, {
    id: 'bench',
    destinationId: 'bench',
    source: { kind: 'table', schema: 'shop', name: 'segment' },
    primaryKey: 'order_id',
    mapping: { consumerName: 'customer_name', consumerEmail: 'customer_email', referenceNumber: 'order_id' },
    schedule: { every: '1d' },
    concurrency: activation.concurrency ?? 50,
  });
}

/** Records every row of the segment as already sent, so that a run finds nothing new. */
export async function markAllSent(scenario: Scenario): Promise<void> {
  await sql`
    insert into app.runs (activation_id, workflow_id, status, config, finished_at) values ('bench', 'bench-seed', 'succeeded', '{}', now())`.execute(scenario.app.db);
  await sql`
    insert into app.ledger (activation_id, row_key, status, fingerprint, first_run_id, last_run_id, sent_at)
    select 'bench', order_id, 'sent', null, 1, 1, now() from shop.segment`.execute(scenario.app.db);
  await sql`analyze app.ledger`.execute(scenario.app.db);
}

export interface WorkerProcess {
  child: ChildProcess;
  /** peak resident memory so far (VmHWM), in MiB */
  peakRssMiB(): number;
  stop(): Promise<void>;
}

function peakRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
  return kib / 1024;
}

/** A worker process as production runs it: compiled code, its own connections. */
export async function spawnProcess(entry: string[], env: NodeJS.ProcessEnv, readyText: string): Promise<WorkerProcess> {
  const child = spawn(process.execPath, entry, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (process.env.BENCH_WORKER_OUTPUT) process.stderr.write(chunk);
      if (output.includes(readyText)) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`process exited (${code}) before it was ready:\n${output.slice(-4000)}`)));
  });
  const pid = child.pid ?? 0;
  return {
    child,
    peakRssMiB: () => peakRss(pid),
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The product's worker for a scenario; `warehouses` adds other warehouses' variables (WAREHOUSE_<NAME>_URL). */
export async function spawnAppWorker(env: BenchEnvironment, scenario: Scenario, warehouses: Record<string, string> = {}): Promise<WorkerProcess> {
  // BENCH_WORKER_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/profiles", to profile the worker.
  const nodeArgs = (process.env.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  return await spawnProcess(
    [...WORKER_NODE_FLAGS, ...nodeArgs, 'dist/worker.js'],
    {
      DATABASE_URL: scenario.url,
      WAREHOUSE_DATABASE_URL: scenario.readerUrl,
      ...warehouses,
      TEMPORAL_ADDRESS: env.temporalAddress,
      TEMPORAL_TASK_QUEUE: scenario.taskQueue,
      TRUSTPILOT_API_URL: env.fake.apiUrl,
      TRUSTPILOT_INVITATIONS_API_URL: env.fake.invitationsApiUrl,
      TRUSTPILOT_API_KEY: FAKE_DEFAULTS.apiKey,
      TRUSTPILOT_API_SECRET: FAKE_DEFAULTS.apiSecret,
      TRUSTPILOT_BUSINESS_USER_ID: FAKE_DEFAULTS.businessUserId,
      METRICS_BIND_ADDRESS: 'off',
      MALLOC_ARENA_MAX: '2',
      LOG_LEVEL: 'info',
      TEMPORAL_LOG_LEVEL: 'ERROR',
    },
    '"msg":"worker started"',
  );
}

const CLOCK_TICKS_PER_SECOND = 100;

/** CPU seconds used so far by the processes of each role (Temporal server, Postgres, the app's worker, this process). */
export function cpuByRole(): Map<string, number> {
  const roles = new Map<string, number>();
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const fields = (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '').split(' ');
      // utime, stime, and those of waited-for children (Postgres backends that exited)
      const seconds = (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS_PER_SECOND;
      const role = command.includes('temporal server')
        ? 'temporal'
        : command.includes('postgres')
          ? 'postgres'
          : command.includes('dist/worker.js')
            ? 'worker'
            : command.includes('noop/worker')
              ? 'no-op worker'
              : Number(pid) === process.pid
                ? 'bench + fake Trustpilot'
                : undefined;
      if (role) roles.set(role, (roles.get(role) ?? 0) + seconds);
    } catch {
      // the process ended meanwhile
    }
  }
  return roles;
}

/** CPU milliseconds per row of each role between two snapshots. */
export function cpuPerRow(before: Map<string, number>, after: Map<string, number>, rows: number): string {
  return [...after]
    .map(([role, seconds]) => [role, ((seconds - (before.get(role) ?? 0)) * 1000) / rows] as const)
    .filter(([, ms]) => ms >= 0.05)
    .map(([role, ms]) => `${role} ${ms.toFixed(2)}`)
    .join(', ');
}
