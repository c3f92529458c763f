import type { AppDb } from '../db/database.ts';
import type { WarehouseDb } from '../source/reader.ts';

export interface TrustpilotEndpoints {
  apiUrl: string;
  invitationsApiUrl: string;
  /** per HTTP call */
  timeoutMs?: number;
}

export interface ActivityDeps {
  db: AppDb;
  warehouse: WarehouseDb;
  trustpilot: TrustpilotEndpoints;
  /** where credential environment variables are looked up (the worker's environment) */
  env: NodeJS.ProcessEnv;
  /** whether a workflow execution with this id is still open; decides if a 'running' run was orphaned */
  isWorkflowOpen(workflowId: string): Promise<boolean>;
  /** source rows read per claim; each page becomes one activity result in history */
  pageSize?: number;
}

export const DEFAULT_PAGE_SIZE = 500;
