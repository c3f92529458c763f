import type pg from 'pg';
import type { AppDb } from '../db/database.ts';
import type { ScanLimits } from '../detection/scan-session.ts';
import type { WarehouseLookup } from '../source/types.ts';

export interface TrustpilotEndpoints {
  apiUrl: string;
  invitationsApiUrl: string;
  /** per HTTP call */
  timeoutMs?: number;
}

/** Schedule operations the activities need (pausing an activation that keeps failing). */
export interface ScheduleControl {
  pause(activationId: string, note: string): Promise<void>;
}

export interface ActivityDeps {
  db: AppDb;
  /** the app database's pool, for COPY into a scan's staging table */
  appPool: pg.Pool;
  /** the marketer's warehouses, each read as a least-privilege reader, by name */
  warehouses: WarehouseLookup;
  trustpilot: TrustpilotEndpoints;
  /** where credential environment variables are looked up (the worker's environment) */
  env: NodeJS.ProcessEnv;
  /** whether a workflow execution with this id is still open; decides if a 'running' run was orphaned */
  isWorkflowOpen(workflowId: string): Promise<boolean>;
  schedules: ScheduleControl;
  /** sends alert webhooks; the global fetch unless a test provides another */
  fetch?: typeof fetch;
  /** what one scan may take from the app database (SCAN_MAX_ROWS, SCAN_MAX_BYTES, SCAN_TEMP_FILE_LIMIT); defaults otherwise */
  scanLimits?: ScanLimits;
  /** ledger rows per claim (default CLAIM_BATCH_SIZE); smaller batches make tests cross batch boundaries */
  claimBatchSize?: number;
}
