import { execFileSync } from 'node:child_process';
import { pipeline } from 'node:stream/promises';
import { sql } from 'kysely';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { recordFailure, recordSent, takeForSending } from '../src/db/ledger-sending.ts';
import { Pacer, pacingKey, slotIntervalMs } from '../src/db/pacing.ts';
import { FAKE_DEFAULTS } from '../src/fake-trustpilot/server.ts';
import { createTrustpilotClient } from '../src/trustpilot/index.ts';
import {
  cpuByRole,
  cpuPerRow,
  createScenario,
  createSegment,
  markAllSent,
  spawnAppWorker,
  spawnProcess,
  WORKER_NODE_FLAGS,
  type BenchEnvironment,
  type Scenario,
} from './environment.ts';

export interface Figure {
  name: string;
  product: number;
  baseline: number | null;
  /** product ÷ baseline, as the figure's target reads it */
  ratio: number | null;
  unit: string;
  target?: string;
  note?: string;
}

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};
const round = (value: number, digits = 3) => Number(value.toFixed(digits));

async function timed<T>(work: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const started = performance.now();
  const value = await work();
  return { seconds: (performance.now() - started) / 1000, value };
}

/**
 * The baseline of detection: what the diff minimally costs, measured on the same servers in the
 * same minute: a COPY of the key column out of the warehouse (as the reader role) into a session
 * table of the app database, and one anti-join against the ledger.
 */
async function copyAndAntiJoin(scenario: Scenario): Promise<number> {
  const reader = new pg.Client({ connectionString: scenario.readerUrl });
  await reader.connect();
  const app = await scenario.app.pool.connect();
  try {
    const { seconds } = await timed(async () => {
      await app.query('create temp table baseline_keys (row_key text)');
      await pipeline(reader.query(copyTo('copy (select order_id from shop.segment) to stdout')), app.query(copyFrom('copy baseline_keys from stdin')));
      await app.query(
        `select count(*) from baseline_keys k where not exists (select 1 from app.ledger l where l.activation_id = 'bench' and l.row_key = k.row_key)`,
      );
    });
    await app.query('drop table baseline_keys');
    return seconds;
  } finally {
    app.release();
    await reader.end();
  }
}

async function historyEvents(env: BenchEnvironment, workflowId: string): Promise<number> {
  let events = 0;
  for await (const execution of env.temporal.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    const history = await env.temporal.workflow.getHandle(workflowId, execution.runId).fetchHistory();
    events += history.events?.length ?? 0;
  }
  return events;
}

/** A run over a segment of `rows` rows, all of them already sent: the cost of detection alone. */
export async function detectionFigures(env: BenchEnvironment, rows: number, repeats: number, log: (line: string) => void): Promise<Figure[]> {
  const scenario = await createScenario(env, `detect${rows}`);
  await createSegment(scenario, rows);
  await markAllSent(scenario);
  const worker = await spawnAppWorker(env, scenario);
  try {
    const products: number[] = [];
    const baselines: number[] = [];
    let events = 0;
    for (let repeat = 0; repeat < repeats; repeat++) {
      const baseline = await copyAndAntiJoin(scenario);
      const { seconds, value: handle } = await timed(async () => {
        const started = await scenario.client.start('bench');
        const summary = await started.result();
        if (summary.newRows !== 0 || summary.sourceRows !== rows) throw new Error(`unexpected detection result: ${JSON.stringify(summary)}`);
        return started;
      });
      products.push(seconds);
      baselines.push(baseline);
      events = await historyEvents(env, handle.workflowId);
      log(`  detect ${rows}: run ${seconds.toFixed(2)}s, COPY + anti-join ${baseline.toFixed(2)}s, ${events} history events`);
    }
    const label = rows >= 1_000_000 ? `${rows / 1_000_000}M` : `${rows / 1000}k`;
    return [
      {
        name: `detect, ${label}-row segment, none new (min of ${repeats})`,
        product: round(Math.min(...products)),
        baseline: round(Math.min(...baselines)),
        ratio: round(Math.min(...products) / Math.min(...baselines), 2),
        unit: 's',
        target: '≤ 3',
        note: `median ${median(products).toFixed(2)}s vs ${median(baselines).toFixed(2)}s`,
      },
      {
        name: `history events of a detection run per 100k rows (${label} rows)`,
        product: round((events * 100_000) / rows, 1),
        baseline: null,
        ratio: null,
        unit: 'events',
        target: '≤ 50',
      },
      { name: `worker peak RSS, detecting ${label} rows`, product: round(worker.peakRssMiB(), 0), baseline: null, ratio: null, unit: 'MiB', target: '< 250' },
    ];
  } finally {
    await worker.stop();
    await scenario.close();
  }
}

/** The ceiling: no-op per-row activities with the run's concurrency, on the same server, from a worker process of their own. */
async function noopCeiling(env: BenchEnvironment, rows: number, concurrency: number): Promise<{ rate: number; cpu: string }> {
  const taskQueue = `noop-${Date.now()}`;
  const worker = await spawnProcess([...WORKER_NODE_FLAGS, '--import', 'tsx', 'bench/noop/worker.ts'], { TEMPORAL_ADDRESS: env.temporalAddress, TEMPORAL_TASK_QUEUE: taskQueue }, 'noop worker started');
  try {
    const before = cpuByRole();
    const { seconds } = await timed(() =>
      env.temporal.workflow.execute('noopRun', { taskQueue, workflowId: `${taskQueue}-run`, args: [{ count: rows, concurrency }] }),
    );
    return { rate: rows / seconds, cpu: cpuPerRow(before, cpuByRole(), rows) };
  } finally {
    await worker.stop();
  }
}

/**
 * The application's work per row without Temporal: the same two ledger statements (take, record,
 * grouped as the activity groups them) around a real HTTP call to the fake, at the same
 * concurrency, in one process.
 */
async function rawLoop(env: BenchEnvironment, scenario: Scenario, rows: number, concurrency: number): Promise<number> {
  const db = scenario.app.db;
  await sql`insert into app.runs (activation_id, workflow_id, status, config) values ('raw', 'raw', 'running', '{}')`.execute(db).catch(async () => {
    await sql`insert into app.activations (id, destination_id, config) values ('raw', 'bench', '{}')`.execute(db);
    await sql`insert into app.runs (activation_id, workflow_id, status, config) values ('raw', 'raw', 'running', '{}')`.execute(db);
  });
  const run = await db.selectFrom('app.runs').select('id').where('workflow_id', '=', 'raw').executeTakeFirstOrThrow();
  await sql`
    insert into app.ledger (activation_id, row_key, status, payload, first_run_id, last_run_id)
    select 'raw', 'raw-' || n, 'pending',
           jsonb_build_object('consumerEmail', 'raw' || n || '@shop.example.com', 'consumerName', 'Raw ' || n, 'referenceNumber', 'raw-' || n, 'type', 'email', 'serviceReviewInvitation', '{}'::jsonb),
           ${run.id}, ${run.id}
      from generate_series(1, ${rows}) n`.execute(db);
  const ids = (await db.selectFrom('app.ledger').select('id').where('activation_id', '=', 'raw').orderBy('id').execute()).map((row) => row.id);
  const client = createTrustpilotClient({
    apiUrl: env.fake.apiUrl,
    invitationsApiUrl: env.fake.invitationsApiUrl,
    credentials: { grant: 'client_credentials', apiKey: FAKE_DEFAULTS.apiKey, apiSecret: FAKE_DEFAULTS.apiSecret, businessUserId: FAKE_DEFAULTS.businessUserId },
  });
  await client.authenticate();
  const interval = slotIntervalMs({ calls: 1_000_000, perSeconds: 1 });
  const key = pacingKey(env.fake.apiUrl, 'raw');
  const pacer = new Pacer(db);
  let next = 0;
  const { seconds } = await timed(async () => {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < ids.length) {
          const entryId = ids[next++] ?? 0;
          const slot = await pacer.nextSlot(key, interval);
          if (slot > Date.now()) await new Promise((resolve) => setTimeout(resolve, slot - Date.now()));
          const taken = await takeForSending(scenario.app.pool, { runId: run.id, entryId, attempt: 1, breakerLimit: 20 });
          if (taken.kind !== 'taken') continue;
          try {
            await client.createInvitation(FAKE_DEFAULTS.businessUnitId, taken.payload);
            await recordSent(scenario.app.pool, { runId: run.id, entryId });
          } catch {
            await recordFailure(scenario.app.pool, { runId: run.id, entryId }, { status: 'failed', errorClass: 'bench', message: 'bench', inDoubt: false, health: 'unknown' });
          }
        }
      }),
    );
  });
  return rows / seconds;
}

/** Sending throughput (unthrottled fake): the product against the no-op ceiling measured in the same run. */
export async function sendingFigures(env: BenchEnvironment, rows: number, concurrency: number, repeats: number, log: (line: string) => void): Promise<Figure[]> {
  const scenario = await createScenario(env, `send${rows}`);
  await createSegment(scenario, rows, { concurrency });
  const worker = await spawnAppWorker(env, scenario);
  try {
    const products: number[] = [];
    const ceilings: number[] = [];
    let cpu = '';
    for (let repeat = 0; repeat < repeats; repeat++) {
      // A fresh ledger each time: the previous run sent every row of the segment.
      if (repeat > 0) await sql`delete from app.ledger where activation_id = 'bench'`.execute(scenario.app.db);
      const before = cpuByRole();
      const { seconds, value: summary } = await timed(() => scenario.client.run('bench'));
      if (summary.sent !== rows) throw new Error(`sent ${summary.sent} of ${rows}`);
      const productCpu = cpuPerRow(before, cpuByRole(), rows);
      const ceiling = await noopCeiling(env, rows, concurrency);
      products.push(rows / seconds);
      ceilings.push(ceiling.rate);
      cpu = `CPU ms per row: product ${productCpu}; no-op ${ceiling.cpu}`;
      log(`  send ${rows} at concurrency ${concurrency}: ${(rows / seconds).toFixed(1)} rows/s, no-op ceiling ${ceiling.rate.toFixed(1)}/s (${cpu})`);
    }
    const raw = await rawLoop(env, scenario, rows, concurrency);
    log(`  raw loop (the same call and SQL, no Temporal): ${raw.toFixed(1)} rows/s`);
    const best = Math.max(...products);
    const bestCeiling = Math.max(...ceilings);
    return [
      {
        name: `send ${rows} rows, concurrency ${concurrency}, fake unthrottled (best of ${repeats})`,
        product: round(best, 1),
        baseline: round(bestCeiling, 1),
        ratio: round(best / bestCeiling, 2),
        unit: 'rows/s',
        target: '≥ 0.6 of the no-op per-row activity ceiling',
        note: `medians ${median(products).toFixed(1)} vs ${median(ceilings).toFixed(1)}; raw call + SQL loop ${raw.toFixed(1)} rows/s; ${cpu}`,
      },
      { name: `worker peak RSS, sending ${rows} rows`, product: round(worker.peakRssMiB(), 0), baseline: null, ratio: null, unit: 'MiB', target: '< 250' },
    ];
  } finally {
    await worker.stop();
    await scenario.close();
  }
}

/** Pacing: the share of the allowance a run at the limit uses, and the 429s it gets, against the fake enforcing the same limit. */
export async function pacingFigure(env: BenchEnvironment, calls: number, perSeconds: number, rows: number, log: (line: string) => void): Promise<Figure> {
  const scenario = await createScenario(env, `pace${calls}-${perSeconds}`);
  await createSegment(scenario, rows, { concurrency: 20, rateLimit: { calls, perSeconds } });
  const worker = await spawnAppWorker(env, scenario);
  env.fake.clear();
  env.fake.setRateLimit({ limit: calls, windowSeconds: perSeconds });
  try {
    await scenario.client.run('bench');
    const times = env.fake
      .accepted()
      .map((invitation) => Date.parse(invitation.receivedAt))
      .sort((a, b) => a - b);
    const span = ((times.at(-1) ?? 0) - (times[0] ?? 0)) / 1000;
    const achieved = (times.length - 1) / span;
    const allowed = calls / perSeconds;
    const tooMany = env.fake.stats().byStatus['429'] ?? 0;
    log(`  pacing ${calls}/${perSeconds}s: ${achieved.toFixed(2)} calls/s of ${allowed.toFixed(2)} allowed, ${tooMany} × 429`);
    return {
      name: `pacing at ${calls} per ${perSeconds}s (${rows} calls): share of the allowance used, ${tooMany} × 429`,
      product: round(achieved, 2),
      baseline: round(allowed, 2),
      ratio: round(achieved / allowed, 3),
      unit: 'calls/s',
      target: '≥ 0.95 with 0 × 429',
    };
  } finally {
    env.fake.setRateLimit(null);
    await worker.stop();
    await scenario.close();
  }
}

function commandSeconds(args: string[], env: NodeJS.ProcessEnv): number {
  const started = performance.now();
  execFileSync(process.execPath, args, { env: { ...process.env, ...env }, stdio: 'ignore' });
  return (performance.now() - started) / 1000;
}

/** How long the CLI takes as a user feels it, beside a bare `node` start measured in the same run. */
export async function cliFigures(env: BenchEnvironment, log: (line: string) => void): Promise<Figure[]> {
  const scenario = await createScenario(env, 'cli');
  await createSegment(scenario, 10);
  const cliEnv = { DATABASE_URL: scenario.url, WAREHOUSE_DATABASE_URL: scenario.readerUrl, TEMPORAL_ADDRESS: env.temporalAddress };
  try {
    const measure = (args: string[]) => Array.from({ length: 5 }, () => commandSeconds(args, cliEnv));
    const bare = measure(['-e', '0']);
    const figures: Figure[] = [];
    for (const [label, args, target] of [
      ['cli --help', ['dist/cli/main.js', '--help'], '< 1 s'],
      ['cli runs <activation>', ['dist/cli/main.js', 'runs', 'bench'], '< 1.5 s'],
      ['cli list', ['dist/cli/main.js', 'list'], '< 1.5 s'],
    ] as const) {
      const times = measure([...args]);
      log(`  ${label}: median ${median(times).toFixed(2)}s (node alone ${median(bare).toFixed(2)}s)`);
      figures.push({ name: `${label} (median of 5)`, product: round(median(times), 2), baseline: round(median(bare), 2), ratio: round(median(times) / median(bare), 1), unit: 's', target });
    }
    return figures;
  } finally {
    await scenario.close();
  }
}
