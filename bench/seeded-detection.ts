import { sql } from 'kysely';
import { saveActivation, saveDestination } from '../src/db/config-store.ts';
import { FAKE_DEFAULTS } from '../src/fake-trustpilot/server.ts';
import { spawnAppWorker, type BenchEnvironment, type Scenario, type WorkerProcess } from './environment.ts';
import { median, type Figure } from './figures.ts';

const round = (value: number, digits = 3) => Number(value.toFixed(digits));

export interface SeededDetection {
  /** the activation's source, on a warehouse of `warehouses` */
  source: Record<string, unknown>;
  /** the worker's variables for that warehouse (WAREHOUSE_<NAME>_URL) */
  warehouses: Record<string, string>;
  rows: number;
  repeats: number;
  /** what the diff minimally costs on this engine, in seconds, measured beside each run */
  baseline: () => Promise<number>;
  /** the figure's subject ("files: 1M-row Parquet export (4 part files)") and the log's words for the run and the baseline */
  subject: string;
  logLine: (runSeconds: number, baselineSeconds: number) => string;
}

/**
 * A run over a segment of `rows` rows (keyed R-00000001 …) whose every row the ledger already holds
 * as sent: the cost of detecting nothing new, beside the engine's baseline in the same minute, and
 * the worker's peak RSS meanwhile. Any engine: only the source, its warehouse and the baseline differ.
 */
export async function seededDetectionFigures(env: BenchEnvironment, scenario: Scenario, detection: SeededDetection, log: (line: string) => void): Promise<Figure[]> {
  const { rows, repeats } = detection;
  await saveDestination(scenario.app.db, { id: 'bench', businessUnitId: FAKE_DEFAULTS.businessUnitId, invitationType: 'service', rateLimit: { calls: 1_000_000, perSeconds: 1 } });
  await saveActivation(scenario.app.db, {
    id: 'bench',
    destinationId: 'bench',
    source: detection.source,
    primaryKey: 'order_id',
    mapping: { consumerName: 'customer_name', consumerEmail: 'customer_email', referenceNumber: 'order_id' },
    schedule: { every: '1d' },
  });
  await sql`insert into app.runs (activation_id, workflow_id, status, config, finished_at) values ('bench', 'bench-seed', 'succeeded', '{}', now())`.execute(scenario.app.db);
  await sql`
    insert into app.ledger (activation_id, row_key, status, fingerprint, first_run_id, last_run_id, sent_at)
    select 'bench', 'R-' || lpad(n::text, 8, '0'), 'sent', null, 1, 1, now() from generate_series(1, ${rows}) n`.execute(scenario.app.db);
  await sql`analyze app.ledger`.execute(scenario.app.db);
  let worker: WorkerProcess | undefined;
  try {
    worker = await spawnAppWorker(env, scenario, detection.warehouses);
    const products: number[] = [];
    const baselines: number[] = [];
    for (let repeat = 0; repeat < repeats; repeat++) {
      const baseline = await detection.baseline();
      const started = performance.now();
      const summary = await (await scenario.client.start('bench')).result();
      const seconds = (performance.now() - started) / 1000;
      if (summary.newRows !== 0 || summary.sourceRows !== rows) throw new Error(`unexpected detection result: ${JSON.stringify(summary)}`);
      products.push(seconds);
      baselines.push(baseline);
      log(`  ${detection.logLine(seconds, baseline)}`);
    }
    return [
      {
        name: `detect, ${detection.subject}, none new (min of ${repeats})`,
        product: round(Math.min(...products)),
        baseline: round(Math.min(...baselines)),
        ratio: round(Math.min(...products) / Math.min(...baselines), 2),
        unit: 's',
        target: '≤ 3',
        note: `median ${median(products).toFixed(2)}s vs ${median(baselines).toFixed(2)}s`,
      },
      { name: `worker peak RSS, detecting ${detection.subject}`, product: round(worker.peakRssMiB(), 0), baseline: null, ratio: null, unit: 'MiB', target: '< 250' },
    ];
  } finally {
    await worker?.stop();
  }
}

export function rowsLabel(rows: number): string {
  return rows >= 1_000_000 ? `${rows / 1_000_000}M` : `${rows / 1000}k`;
}
