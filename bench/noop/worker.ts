import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker } from '@temporalio/worker';
import { installTelemetry } from '../../src/runtime/telemetry.ts';
import { WORKER_TUNING } from '../../src/runtime/worker.ts';

/** A worker serving no-op activities, as a process of its own like the app's worker. */
installTelemetry({ logLevel: 'ERROR' });
const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS ?? 'localhost:7233' });
const worker = await Worker.create({
  connection,
  taskQueue: process.env.TEMPORAL_TASK_QUEUE ?? 'noop',
  workflowsPath: fileURLToPath(new URL('./workflows.ts', import.meta.url)),
  activities: { noop: () => Promise.resolve('sent') },
  ...WORKER_TUNING,
});
console.log('noop worker started');
try {
  await worker.run();
} finally {
  await connection.close();
}
