import { DEV_DATA_DIR } from '../config/dev-discovery.ts';
import { FAKE_DEFAULTS } from '../fake-trustpilot/server.ts';
import { DEMO_ACTIVATION_ID } from './demo.ts';
import type { Metrics } from './metrics.ts';
import type { Pieces } from './pieces.ts';
import { NEW_ORDERS_EVERY_MS, READER } from './settings.ts';

/** The block dev mode prints once it is ready: where everything is, and how to use it. */
export function printBanner(pieces: Pieces, metrics: Metrics): void {
  const { env } = pieces;
  console.log('');
  console.log(`Ready. Activation "${DEMO_ACTIVATION_ID}" runs every minute; new demo orders arrive every ${NEW_ORDERS_EVERY_MS / 1000}s.`);
  console.log(`  Temporal UI:      ${pieces.temporalUi}/namespaces/${env.TEMPORAL_NAMESPACE}/schedules`);
  console.log(`                    (namespace ${env.TEMPORAL_NAMESPACE}, task queue ${env.TEMPORAL_TASK_QUEUE})`);
  console.log(`  Your tables:      psql ${pieces.warehouseAdminUrl}`);
  console.log(`                    (segments are read as role ${READER.user}: it can read the schemas demo and public; GRANT it others)`);
  console.log(`  App database:     psql ${env.DATABASE_URL ?? ''}`);
  console.log(`  Fake Trustpilot:  ${pieces.fakeUrl}/admin/invitations`);
  console.log(`                    businessUnitId "${FAKE_DEFAULTS.businessUnitId}", API key/secret ${FAKE_DEFAULTS.apiKey} / ${FAKE_DEFAULTS.apiSecret}, business user ${FAKE_DEFAULTS.businessUserId}`);
  console.log(`  Metrics:          ${metrics.address ? `http://${metrics.address}/metrics${metrics.note ? `  (${metrics.note}, so a free port)` : ''}` : 'off (METRICS_BIND_ADDRESS=off)'}`);
  console.log(`  Data:             ${DEV_DATA_DIR}`);
  console.log(`  Command line:     npm run cli -- list      (it finds this running instance by itself)`);
  console.log(`  Run one now:      npm run cli -- run ${DEMO_ACTIVATION_ID}`);
  console.log('  Stop:             Ctrl-C (or SIGTERM to this process)');
  console.log('');
}
