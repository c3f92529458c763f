import { installTelemetry } from '../src/runtime/telemetry.ts';
import { startEnvironment } from './environment.ts';
import { sendingFigures } from './figures.ts';
installTelemetry({ logLevel: 'ERROR' });
const env = await startEnvironment();
try { console.log(JSON.stringify(await sendingFigures(env, 2000, 50, 1, console.log))); } finally { await env.close(); }
