import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../src/dev/free-port.ts';

/**
 * An S3-compatible server for the files engine's object storage tests: moto's, as `npm run setup`
 * installs it (.tools/bin/moto_server), on a free loopback port, one for the whole test run. It
 * keeps everything in memory and accepts any key: each test creates buckets of its own.
 */

const MOTO = fileURLToPath(new URL('../../.tools/bin/moto_server', import.meta.url));
const START_TIMEOUT_MS = 30_000;

export interface MotoServer {
  /** `127.0.0.1:port`, as an s3:// warehouse URL's `endpoint` option names it */
  endpoint: string;
  stop(): Promise<void>;
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    return response.status < 500;
  } catch {
    return false;
  }
}

export async function startMotoServer(): Promise<MotoServer> {
  if (!existsSync(MOTO)) throw new Error(`${MOTO} is missing: run \`npm run setup\` (it installs moto, the tests' S3 server)`);
  const port = await freePort();
  const child = spawn(MOTO, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output = (output + chunk).slice(-4_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await answers(`http://127.0.0.1:${port}/`))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`moto_server did not start on port ${port}:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { endpoint: `127.0.0.1:${port}`, stop };
}
