import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import type { TestContext } from './harness.ts';

export { freePort } from '../../src/dev/free-port.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
// The compiled worker, as `npm run worker` runs it (the global setup brings dist/ up to date).
const workerEntry = fileURLToPath(new URL('../../dist/worker.js', import.meta.url));

/** Signals a process group (the processes here are spawned detached, each leading its own). */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (error) {
    // Gone already: nothing left to signal.
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** Keeps the tail of a process's output, so a failing test can show what the process said last. */
const OUTPUT_TAIL_CHARS = 20_000;

export interface WorkerProcess {
  pid: number;
  /** resolves when the process has exited (with its code or the signal that ended it) */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  hasExited(): boolean;
  output(): string;
  /** resolves once the worker logged that it polls its task queue */
  ready(timeoutMs?: number): Promise<void>;
  /** sends `signal` to the whole process group (node and anything it spawned) */
  signal(signal: NodeJS.Signals): void;
  /** SIGKILLs the process group and waits for the exit */
  kill(): Promise<void>;
}

const live = new Set<WorkerProcess>();

// A test that throws before its cleanup, or a runner that exits early, must not leave workers behind.
process.once('exit', () => {
  for (const worker of live) {
    try {
      process.kill(-worker.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** The production worker's environment for a test context: its database, task queue and fake Trustpilot. */
export function workerEnvFor(ctx: TestContext, overrides: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Nothing from the outer environment may point the worker elsewhere.
  for (const name of Object.keys(env)) {
    if (name.startsWith('TRUSTPILOT_') || name.startsWith('TEMPORAL_') || name === 'DATABASE_URL' || name === 'WAREHOUSE_DATABASE_URL') {
      delete env[name];
    }
  }
  return {
    ...env,
    ...ctx.workerEnv,
    DATABASE_URL: ctx.databaseUrl,
    WAREHOUSE_DATABASE_URL: ctx.readerUrl,
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_NAMESPACE: ctx.namespace,
    TEMPORAL_TASK_QUEUE: ctx.taskQueue,
    TEMPORAL_LOG_LEVEL: 'WARN',
    TRUSTPILOT_API_URL: ctx.fake.apiUrl,
    TRUSTPILOT_INVITATIONS_API_URL: ctx.fake.invitationsApiUrl,
    LOG_LEVEL: 'info',
    // Several workers run at once here: none serves metrics on the default port.
    METRICS_BIND_ADDRESS: 'off',
    ...overrides,
  };
}

/**
 * Starts the compiled worker (`dist/worker.js`) as a separate process, in a process group of its own (detached), so
 * that a SIGKILL of the group takes down everything it runs, as a crash of the machine would.
 */
export function spawnWorker(name: string, env: NodeJS.ProcessEnv): WorkerProcess {
  const child: ChildProcess = spawn(process.execPath, ['--enable-source-maps', workerEntry], {
    cwd: repoRoot,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`worker ${name} did not start`);
  const pid = child.pid;
  let output = '';
  let exitedAs: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const readyWaiters = new Set<() => void>();
  const append = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
    if (output.includes('"msg":"worker started"')) for (const wake of readyWaiters) wake();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      exitedAs = { code, signal };
      live.delete(worker);
      for (const wake of readyWaiters) wake();
      resolve(exitedAs);
    });
  });

  const worker: WorkerProcess = {
    pid,
    exited,
    hasExited: () => exitedAs !== undefined,
    output: () => output,
    async ready(timeoutMs = 90_000) {
      if (output.includes('"msg":"worker started"')) return;
      let timer: NodeJS.Timeout | undefined;
      let wake: (() => void) | undefined;
      try {
        await new Promise<void>((resolve, reject) => {
          wake = () => (exitedAs ? reject(new Error(`worker ${name} exited (${JSON.stringify(exitedAs)}) before it was ready:\n${output}`)) : resolve());
          readyWaiters.add(wake);
          if (exitedAs) wake();
          timer = setTimeout(() => reject(new Error(`worker ${name} not ready after ${timeoutMs} ms:\n${output}`)), timeoutMs);
        });
      } finally {
        clearTimeout(timer);
        if (wake) readyWaiters.delete(wake);
      }
    },
    signal(signal) {
      if (!exitedAs) signalGroup(pid, signal);
    },
    async kill() {
      worker.signal('SIGKILL');
      await exited;
    },
  };
  live.add(worker);
  return worker;
}

/** SIGKILLs every worker process still running (afterAll / finally). */
export async function killAllWorkers(): Promise<void> {
  await Promise.all([...live].map((worker) => worker.kill()));
}

/** A Node entry point of the app run as its own process, its whole output kept (not only the tail). */
export interface AppProcess extends WorkerProcess {
  /** resolves once `marker` appeared in the output; rejects when the process exits first or after `timeoutMs` */
  printed(marker: string, timeoutMs?: number): Promise<void>;
  /** ms from the spawn to the exit (undefined while running) */
  exitedAfterMs(): number | undefined;
}

/**
 * Starts `entry` (compiled JavaScript relative to the repository, e.g. 'dist/dev/main.js' or
 * 'dist/worker.js', as the package's scripts run them) with node, in a process group of its own, and keeps ALL of its output, so that
 * a test can search every line it wrote (for personal data, say). Killed by killAllWorkers too.
 */
export function spawnApp(name: string, entry: string, env: NodeJS.ProcessEnv, readyMarker = '"msg":"worker started"'): AppProcess {
  const spawnedAt = Date.now();
  const child: ChildProcess = spawn(process.execPath, ['--enable-source-maps', fileURLToPath(new URL(`../../${entry}`, import.meta.url))], {
    cwd: repoRoot,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`${name} did not start`);
  const pid = child.pid;
  const chunks: string[] = [];
  let exitedAs: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let exitedAt: number | undefined;
  const waiters = new Set<() => void>();
  const output = () => chunks.join('');
  const append = (chunk: Buffer) => {
    chunks.push(chunk.toString('utf8'));
    for (const wake of waiters) wake();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      exitedAs = { code, signal };
      exitedAt = Date.now();
      live.delete(app);
      for (const wake of waiters) wake();
      resolve(exitedAs);
    });
  });

  async function printed(marker: string, timeoutMs = 90_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    let wake: (() => void) | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        wake = () => {
          if (output().includes(marker)) resolve();
          else if (exitedAs) reject(new Error(`${name} exited (${JSON.stringify(exitedAs)}) before printing ${JSON.stringify(marker)}:\n${output().slice(-5_000)}`));
        };
        waiters.add(wake);
        wake();
        timer = setTimeout(() => reject(new Error(`${name} did not print ${JSON.stringify(marker)} within ${timeoutMs} ms:\n${output().slice(-5_000)}`)), timeoutMs);
      });
    } finally {
      clearTimeout(timer);
      if (wake) waiters.delete(wake);
    }
  }

  const app: AppProcess = {
    pid,
    exited,
    hasExited: () => exitedAs !== undefined,
    output,
    ready: (timeoutMs) => printed(readyMarker, timeoutMs),
    printed,
    exitedAfterMs: () => (exitedAt === undefined ? undefined : exitedAt - spawnedAt),
    signal(signal) {
      if (!exitedAs) signalGroup(pid, signal);
    },
    async kill() {
      app.signal('SIGKILL');
      await exited;
    },
  };
  live.add(app);
  return app;
}

/** Waits for the process to exit, at most `timeoutMs`; SIGKILLs it (and reports so) when it does not. */
export async function exitOf(app: WorkerProcess, timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; timedOut: boolean }> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    app.exited.then(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  if (timedOut) await app.kill();
  return { ...(await app.exited), timedOut };
}
