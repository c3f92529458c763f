import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection, ScheduleNotFoundError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { trustpilotCredentialVariables } from '../../src/config/env.ts';
import { databaseUrl } from '../../src/dev/embedded-postgres.ts';
import { findTemporalCli } from '../../src/dev/temporal-cli.ts';
import { seconds } from '../fixtures.ts';
import { occupyMachine } from './machine-lock.ts';
import { exitOf, spawnApp, type AppProcess } from './processes.ts';

/**
 * `npm start` as a process (the compiled dist/dev/main.js), each run with a fresh data directory
 * under the OS temp directory, never the checkout's `.data` a developer's `npm start` uses.
 */
const ENTRY = 'dist/dev/main.js';
const DEV_PORTS = [54329, 7233, 8233, 8787];
const DEV_TASK_QUEUE = 'trustpilot-invitations-dev';
const DEMO_SCHEDULE = 'activation:demo-orders';
const CREDENTIALS = ['TRUSTPILOT_API_KEY', 'TRUSTPILOT_API_SECRET', 'TRUSTPILOT_BUSINESS_USER_ID', 'TRUSTPILOT_USERNAME', 'TRUSTPILOT_PASSWORD'];
const hex = () => randomBytes(4).toString('hex');

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A data directory that does not exist yet (a refused start must not create it). */
function absentDataDir(): string {
  return join(tmpdir(), `tpi-dev-mode-${hex()}`);
}

/** Nothing from the outer environment (a developer's or CI's) may point dev mode anywhere; only what a case sets. */
function devEnv(dataDir: string, overrides: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) {
    const outer = name.startsWith('TRUSTPILOT_') || name.startsWith('TEMPORAL_') || name.endsWith('DATABASE_URL') || name === 'METRICS_BIND_ADDRESS';
    if (outer && name !== 'TEMPORAL_CLI_PATH') delete env[name];
  }
  return { ...env, TEMPORAL_LOG_LEVEL: 'ERROR', TRUSTPILOT_DEV_DATA_DIR: dataDir, ...overrides };
}

async function portInUse(port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(true));
    probe.listen({ port, host: '127.0.0.1', exclusive: true }, () => probe.close(() => resolve(false)));
  });
}

async function busyDevPorts(): Promise<number[]> {
  const busy: number[] = [];
  for (const port of DEV_PORTS) if (await portInUse(port)) busy.push(port);
  return busy;
}

/** The pid of a process that has exited, as a crashed `npm start` leaves in its discovery file. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', ''], { stdio: 'ignore' });
  const pid = child.pid;
  expect(() => process.kill(pid, 0)).toThrow();
  return pid;
}

async function withAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: inject('postgresAdminUrl') });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** What a dev mode that went to this server would have created there. */
async function serverState(): Promise<{ warehouseDb: boolean; readerRole: boolean }> {
  return await withAdmin(async (client) => {
    const result = await client.query<{ warehouse_db: boolean; reader_role: boolean }>(
      `select exists (select 1 from pg_database where datname = 'warehouse') as warehouse_db,
              exists (select 1 from pg_roles where rolname = 'trustpilot_dev_reader') as reader_role`,
    );
    return { warehouseDb: result.rows[0]?.warehouse_db ?? false, readerRole: result.rows[0]?.reader_role ?? false };
  });
}

async function scheduleExists(client: Client, scheduleId: string): Promise<boolean> {
  return await client.schedule
    .getHandle(scheduleId)
    .describe()
    .then(
      () => true,
      (error: unknown) => {
        if (error instanceof ScheduleNotFoundError) return false;
        throw error;
      },
    );
}

describe('dev mode never touches production', () => {
  let release: (() => Promise<void>) | undefined;
  let testTemporal: Connection;

  beforeAll(async () => {
    release = await occupyMachine('shared');
    testTemporal = await Connection.connect({ address: inject('temporalAddress') });
  });
  afterAll(async () => {
    await testTemporal.close();
    await release?.();
  });

  it('the credential variables it refuses are exactly those the app reads, in both forms', () => {
    const all = CREDENTIALS.flatMap((name) => [name, `${name}_FILE`]);
    expect(trustpilotCredentialVariables(Object.fromEntries(all.map((name) => [name, 'x'])))).toEqual(all);
  });

  it('refuses to start when any production setting is present, each alone and all at once: one paragraph naming it, never its value, and nothing created anywhere', async () => {
    const probe = { user: `tpi_dev_probe_${hex()}`, password: `probe-password-${hex()}` };
    // A superuser login on the test server, as a shared server's URL would be: had dev mode used it, it could create anything there.
    await withAdmin((client) => client.query(`create role "${probe.user}" login superuser password '${probe.password}'`));
    const secrets = mkdtempSync(join(tmpdir(), 'tpi-dev-secrets-'));
    const testClient = new Client({ connection: testTemporal, namespace: 'default' });
    try {
      const probeUrl = databaseUrl(inject('postgresAdminUrl'), 'postgres', probe);
      const cases: { name: string; value: string; secret?: string }[] = [
        { name: 'DATABASE_URL', value: probeUrl, secret: probe.password },
        { name: 'WAREHOUSE_DATABASE_URL', value: probeUrl, secret: probe.password },
        { name: 'TEMPORAL_ADDRESS', value: inject('temporalAddress') },
        { name: 'TEMPORAL_NAMESPACE', value: `prod-namespace-${hex()}` },
        { name: 'TEMPORAL_TASK_QUEUE', value: `prod-queue-${hex()}` },
        { name: 'TRUSTPILOT_API_URL', value: 'https://api.trustpilot.com' },
        { name: 'TRUSTPILOT_INVITATIONS_API_URL', value: 'https://invitations-api.trustpilot.com' },
        ...CREDENTIALS.flatMap((name) => {
          const file = join(secrets, name.toLowerCase());
          const content = `file-secret-${name}-${hex()}`;
          writeFileSync(file, `${content}\n`, { mode: 0o600 });
          return [
            { name, value: `secret-${name}-${hex()}`, secret: `secret-${name}` },
            { name: `${name}_FILE`, value: file, secret: content },
          ];
        }),
      ];
      const before = { server: await serverState(), schedule: await scheduleExists(testClient, DEMO_SCHEDULE) };

      const runs: { name: string; names: string[]; values: string[]; secrets: string[]; dataDir: string; app: AppProcess; exit: Awaited<ReturnType<typeof exitOf>> }[] = [];
      const all = { name: 'all at once', names: cases.map((entry) => entry.name), values: cases.map((entry) => entry.value), secrets: cases.flatMap((entry) => (entry.secret ? [entry.secret] : [])) };
      const batches = [...cases.map((entry) => ({ name: entry.name, names: [entry.name], values: [entry.value], secrets: entry.secret ? [entry.secret] : [] })), all];
      // A few at a time: each loads the app's modules, and the machine has two cores.
      for (let index = 0; index < batches.length; index += 4) {
        const started = batches.slice(index, index + 4).map((entry) => {
          const dataDir = absentDataDir();
          const env = devEnv(dataDir, Object.fromEntries(entry.names.map((name, at) => [name, entry.values[at]])));
          return { ...entry, dataDir, app: spawnApp(`dev mode with ${entry.name}`, ENTRY, env, 'Ready.') };
        });
        for (const run of started) runs.push({ ...run, exit: await exitOf(run.app, 30_000) });
      }

      const after = { server: await serverState(), schedule: await scheduleExists(testClient, DEMO_SCHEDULE) };
      console.log(`dev mode refusals: ${runs.map((run) => `${run.name} exit ${run.exit.code} after ${seconds(run.app.exitedAfterMs())}`).join('; ')}`);
      console.log(`test server before ${JSON.stringify(before)}, after ${JSON.stringify(after)}; refusal said: ${runs.at(-1)?.app.output().trim()}`);
      for (const run of runs) {
        const output = run.app.output();
        const said = `${run.name}:\n${output}`;
        expect(run.exit.timedOut, said).toBe(false);
        expect(run.exit.code, said).not.toBe(0);
        expect(run.exit.code, said).not.toBeNull();
        expect(run.app.exitedAfterMs(), said).toBeLessThan(20_000);
        // One paragraph on one line, that names every variable found and says what to do.
        const paragraph = output.split('\n').filter((line) => line.includes('refuses to start'));
        expect(paragraph, said).toHaveLength(1);
        for (const name of run.names) expect(paragraph[0], `${run.name} should name ${name}`).toMatch(new RegExp(`\\b${name}\\b`));
        expect(paragraph[0]).toContain('unset');
        expect(paragraph[0]).toContain('npm run worker');
        for (const value of run.values) expect(output, `${run.name}: a value is printed`).not.toContain(value);
        for (const secret of run.secrets) expect(output, `${run.name}: a secret is printed`).not.toContain(secret);
        expect(output, said).not.toMatch(/Starting|Ready\.|Stopped|undefined/);
        expect(existsSync(run.dataDir), `${run.name}: its data directory was created`).toBe(false);
      }
      if (!before.server.warehouseDb) expect(after.server.warehouseDb, "database 'warehouse' created on the test server").toBe(false);
      if (!before.server.readerRole) expect(after.server.readerRole, "role 'trustpilot_dev_reader' created on the test server").toBe(false);
      if (!before.schedule) expect(after.schedule, `schedule ${DEMO_SCHEDULE} created on the test Temporal`).toBe(false);
    } finally {
      await withAdmin((client) => client.query(`drop role if exists "${probe.user}"`));
      rmSync(secrets, { recursive: true, force: true });
    }
  });

  it('a piece that fails to start: its reason in one line, never "undefined", and nothing left behind', async () => {
    const busy = await busyDevPorts();
    if (busy.length > 0) throw new Error(`ports ${busy.join(', ')} are in use on this machine (a developer's \`npm start\`?): stop it and run the test again`);
    const dataDir = mkdtempSync(join(tmpdir(), 'tpi-dev-mode-'));
    chmodSync(dataDir, 0o755);
    // A Postgres data directory in name only: the server stops at once, saying why.
    mkdirSync(join(dataDir, 'postgres'), { mode: 0o700 });
    writeFileSync(join(dataDir, 'postgres', 'PG_VERSION'), '18\n');
    const app = spawnApp('dev mode whose Postgres cannot start', ENTRY, devEnv(dataDir), 'Ready.');
    try {
      const exit = await exitOf(app, 60_000);
      const output = app.output();
      const reason = output.split('\n').filter((line) => line.startsWith('Dev mode could not start'));
      console.log(`dev mode, Postgres failing to start: exit ${exit.code} after ${seconds(app.exitedAfterMs())}: ${reason.join(' | ')}`);
      expect(exit.timedOut, output).toBe(false);
      expect(exit.code, output).not.toBe(0);
      expect(reason, output).toHaveLength(1);
      // What the server itself said (here: no postgresql.conf it can read), not a guess.
      expect(reason[0]).toMatch(/embedded Postgres .* failed: .*Postgres stopped while starting on port 54329 .*: postgres: .*postgresql\.conf/);
      expect(output).not.toMatch(/\bundefined\b|Ready\./);
      expect(existsSync(join(dataDir, 'dev-connection.json'))).toBe(false);
      expect(await busyDevPorts()).toEqual([]);
    } finally {
      await app.kill();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it(
    'starts over a stale discovery file; a second dev mode beside it, starting or ready, says so in one line and touches nothing; another with its own data directory finds the ports taken; SIGTERM stops it',
    { timeout: 300_000 },
    async () => {
      const busy = await busyDevPorts();
      if (busy.length > 0) {
        throw new Error(
          `ports ${busy.join(', ')} are in use on this machine (a developer's \`npm start\`?): this test starts dev mode on its fixed ports ${DEV_PORTS.join(', ')} and never stops what holds them. Stop it and run the test again.`,
        );
      }
      const dataDir = mkdtempSync(join(tmpdir(), 'tpi-dev-mode-'));
      // As root, Postgres runs as the postgres user, which must enter the directory.
      chmodSync(dataDir, 0o755);
      const discoveryFile = join(dataDir, 'dev-connection.json');
      const stalePassword = `stale-password-${hex()}`;
      writeFileSync(
        discoveryFile,
        JSON.stringify({ pid: deadPid(), startedAt: new Date(Date.now() - 3_600_000).toISOString(), state: 'ready', dataDir, env: { DATABASE_URL: `postgres://stale:${stalePassword}@localhost:1/stale` } }),
      );
      const cli = findTemporalCli();
      const env = devEnv(dataDir, { LOG_LEVEL: 'warn', ...(cli.source === 'SDK download' ? {} : { TEMPORAL_CLI_PATH: cli.path }) });
      const spawnedAt = Date.now();
      // The banner's last line: the lines before it may come in another chunk than 'Ready.'.
      const first = spawnApp('dev mode', ENTRY, env, 'Stop:             Ctrl-C');
      const others: AppProcess[] = [];
      const outputs: string[] = [];
      let stopped: Awaited<ReturnType<typeof exitOf>> | undefined;
      let discoveryAfterStop: boolean | undefined;
      try {
        await first.printed('Starting embedded Postgres', 60_000);
        // While the first is starting: its claim on the data directory is already there.
        const early = spawnApp('second dev mode while the first starts', ENTRY, devEnv(dataDir), 'Ready.');
        others.push(early);
        const earlyExit = await exitOf(early, 30_000);

        await first.ready(180_000);
        const readyAfter = Date.now() - spawnedAt;
        const banner = first.output();
        const discovery = readFileSync(discoveryFile, 'utf8');
        const published = JSON.parse(discovery) as { pid: number; state: string; dataDir: string; temporalUi: string; env: Record<string, string> };

        const metricsUrl = /^ {2}Metrics:\s+(http:\/\/\S+\/metrics)/m.exec(banner)?.[1];
        const metrics = metricsUrl ? await fetch(metricsUrl).then(async (response) => ({ status: response.status, text: await response.text() })) : undefined;

        const devTemporal = await Connection.connect({ address: '127.0.0.1:7233' });
        let scheduleQueue: string | undefined;
        let pollers = 0;
        try {
          const devClient = new Client({ connection: devTemporal, namespace: 'default' });
          const schedule = await devClient.schedule.getHandle(DEMO_SCHEDULE).describe();
          scheduleQueue = schedule.action.type === 'startWorkflow' ? schedule.action.taskQueue : undefined;
          // The worker polls from just after the banner.
          for (let attempt = 0; attempt < 40 && pollers === 0; attempt += 1) {
            const described = await devTemporal.workflowService.describeTaskQueue({
              namespace: 'default',
              taskQueue: { name: DEV_TASK_QUEUE },
              taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            });
            pollers = described.pollers?.length ?? 0;
            if (pollers === 0) await new Promise((resolve) => setTimeout(resolve, 250));
          }
        } finally {
          await devTemporal.close();
        }

        const second = spawnApp('second dev mode beside a ready one', ENTRY, devEnv(dataDir), 'Ready.');
        others.push(second);
        const secondExit = await exitOf(second, 30_000);
        const discoveryAfterSecond = readFileSync(discoveryFile, 'utf8');

        const elsewhere = absentDataDir();
        const third = spawnApp('dev mode with its own data directory beside a running one', ENTRY, devEnv(elsewhere), 'Ready.');
        others.push(third);
        const thirdExit = await exitOf(third, 30_000);

        const fakeAnswers = (await fetch('http://127.0.0.1:8787/admin')).status;
        const postgresAnswers = await (async () => {
          const client = new pg.Client({ connectionString: published.env.DATABASE_URL });
          await client.connect();
          try {
            return (await client.query<{ one: number }>('select 1 as one')).rows[0]?.one;
          } finally {
            await client.end();
          }
        })();

        console.log(`dev mode ready after ${seconds(readyAfter)}; metrics ${metricsUrl ?? 'none'} answered ${metrics?.status ?? '-'}; schedule queue ${scheduleQueue ?? '-'}, ${pollers} poller(s)`);
        console.log(`second while starting: exit ${earlyExit.code}: ${early.output().trim()}`);
        console.log(`second beside the ready one: exit ${secondExit.code} after ${seconds(second.exitedAfterMs())}: ${second.output().trim()}`);
        console.log(`own data directory: exit ${thirdExit.code}: ${third.output().trim()}`);

        expect(published).toMatchObject({ pid: first.pid, state: 'ready', dataDir, temporalUi: 'http://localhost:8233' });
        expect(published.env).toMatchObject({ TEMPORAL_ADDRESS: '127.0.0.1:7233', TEMPORAL_NAMESPACE: 'default', TEMPORAL_TASK_QUEUE: DEV_TASK_QUEUE });
        expect(published.env.DATABASE_URL).toContain('@localhost:54329/');
        expect(banner).toContain(`task queue ${DEV_TASK_QUEUE}`);
        expect(banner).toMatch(new RegExp(`^ {2}Data: +${escapeRegExp(dataDir)}$`, 'm'));
        expect(metricsUrl, banner).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
        expect(metrics?.status).toBe(200);
        expect(metrics?.text).toMatch(/^temporal_/m);
        expect(scheduleQueue).toBe(DEV_TASK_QUEUE);
        expect(pollers).toBeGreaterThan(0);

        for (const [app, exit] of [[early, earlyExit], [second, secondExit]] as const) {
          const output = app.output().trim();
          expect(exit.timedOut, output).toBe(false);
          expect(exit.code, output).not.toBe(0);
          expect(exit.code, output).not.toBeNull();
          expect(output.split('\n'), output).toHaveLength(1);
          expect(output).toMatch(new RegExp(`^Dev mode is already (starting|running) \\(pid ${first.pid}; Temporal UI http://localhost:8233, data in ${escapeRegExp(dataDir)}\\)`));
        }
        expect(second.output()).toContain('already running');
        expect(second.exitedAfterMs()).toBeLessThan(20_000);
        expect(discoveryAfterSecond).toBe(discovery);

        const thirdOutput = third.output().trim();
        expect(thirdExit.timedOut, thirdOutput).toBe(false);
        expect(thirdExit.code, thirdOutput).not.toBe(0);
        expect(thirdOutput.split('\n'), thirdOutput).toHaveLength(1);
        for (const port of DEV_PORTS) expect(thirdOutput).toContain(String(port));
        expect(existsSync(elsewhere)).toBe(false);

        expect(first.hasExited(), first.output()).toBe(false);
        expect(fakeAnswers).toBe(200);
        expect(postgresAnswers).toBe(1);
      } finally {
        for (const other of others) await other.kill();
        // SIGTERM lets it stop its servers and remove its discovery file; exitOf SIGKILLs the group when it does not stop.
        first.signal('SIGTERM');
        stopped = await exitOf(first, 30_000);
        discoveryAfterStop = existsSync(discoveryFile);
        outputs.push(first.output(), ...others.map((other) => other.output()));
        rmSync(dataDir, { recursive: true, force: true });
      }
      console.log(`dev mode after SIGTERM: ${JSON.stringify(stopped)}; said last: ${first.output().trim().split('\n').slice(-2).join(' | ')}`);
      expect(stopped.timedOut).toBe(false);
      expect(stopped.code, first.output()).toBe(0);
      expect(first.output()).toContain('Stopped.');
      expect(discoveryAfterStop).toBe(false);
      for (const output of outputs) {
        expect(output).not.toMatch(/\bundefined\b/);
        expect(output).not.toContain(stalePassword);
      }
      // Its servers are gone with it: the next `npm start` finds the ports free.
      let still = await busyDevPorts();
      for (let attempt = 0; attempt < 20 && still.length > 0; attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        still = await busyDevPorts();
      }
      expect(still).toEqual([]);
    },
  );
});
