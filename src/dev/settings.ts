import { resolve } from 'node:path';

/** What dev mode runs with: its fixed ports, names, the reader role, and the demo's pace. */

export const EMBEDDED_POSTGRES_PORT = 54329;
export const TEMPORAL_PORT = 7233;
export const TEMPORAL_UI_PORT = 8233;
export const FAKE_TRUSTPILOT_PORT = 8787;
export const DEFAULT_METRICS_PORT = 9464;
export const LOOPBACK = '127.0.0.1';
/** The namespace the dev server creates; nothing else runs there. */
export const DEV_NAMESPACE = 'default';
/** Not the production default: a worker of dev mode must never be mistaken for, or serve, a production queue. */
export const DEV_TASK_QUEUE = 'trustpilot-invitations-dev';
export const APP_DATABASE = 'trustpilot_invitations';
export const WAREHOUSE_DATABASE = 'warehouse';
/** The least-privilege role segments are read as; a dev-only password, on a server that listens on localhost only. */
export const READER = { user: 'trustpilot_dev_reader', password: 'trustpilot_dev_reader' };
/** The files warehouse `exports` of dev mode: the checkout's examples/exports (from src/dev or dist/dev alike). */
export const EXPORTS_WAREHOUSE_DIR = resolve(import.meta.dirname, '..', '..', 'examples', 'exports');
export const NEW_ORDERS_EVERY_MS = 20_000;
// Trustpilot allows 833 calls per 5 minutes; the demo's fake allows more so a first run of
// a few hundred orders takes seconds, not minutes. Pacing works the same at any rate.
export const DEMO_RATE_LIMIT = { calls: 50, perSeconds: 5 };
