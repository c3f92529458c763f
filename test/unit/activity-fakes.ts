import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, type CompiledQuery, type DatabaseConnection, type Driver, type QueryResult } from 'kysely';
import type pg from 'pg';
import type { ActivityDeps } from '../../src/activities/deps.ts';
import type { RunConfig, RunContext } from '../../src/activities/run-context.ts';
import type { AppDb } from '../../src/db/database.ts';
import type { Database } from '../../src/db/schema.ts';
import { parseConfigs } from '../../src/domain/index.ts';
import type { InvitationRequest } from '../../src/domain/invitation-request.ts';

/**
 * Small stand-ins for what activities touch, for tests that run them in Temporal's mock activity
 * environment without Postgres: each records what was asked of it, so a test can say what was not.
 */

/** The app database as kysely drives it: every statement is recorded and answered by `answer` (no rows by default). */
export function fakeAppDb(answer: (sql: string, parameters: readonly unknown[]) => unknown[] = () => []): { db: AppDb; statements: string[] } {
  const statements: string[] = [];
  const connection: DatabaseConnection = {
    executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
      statements.push(query.sql);
      return Promise.resolve({ rows: answer(query.sql, query.parameters) as R[] });
    },
    streamQuery() {
      throw new Error('no streaming in the fake database');
    },
  };
  const driver: Driver = {
    init: () => Promise.resolve(),
    acquireConnection: () => Promise.resolve(connection),
    beginTransaction: () => Promise.resolve(),
    commitTransaction: () => Promise.resolve(),
    rollbackTransaction: () => Promise.resolve(),
    releaseConnection: () => Promise.resolve(),
    destroy: () => Promise.resolve(),
  };
  const db = new Kysely<Database>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => driver,
      createIntrospector: (kysely) => new PostgresIntrospector(kysely),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  });
  return { db, statements };
}

export interface RecordedFailure {
  entryId: number;
  status: string;
  errorClass: string;
  message: string;
  inDoubt: boolean;
  health: string;
}

/**
 * The ledger statements of a send (db/ledger-sending.ts) over one row of one run: takes move it to
 * 'sending', records land on it, and the run's count of failures in a row moves as the real
 * statement moves it.
 */
export class FakeLedger {
  /** the statements asked for, by name, in order */
  readonly statements: string[] = [];
  readonly failures: RecordedFailure[] = [];
  status = 'pending';
  failuresInARow = 0;
  /** `sent` records that fail (a database restarting) before one lands */
  failingSentRecords = 0;

  constructor(readonly payload: InvitationRequest) {}

  readonly pool = { query: (config: { name: string; values: unknown[] }) => this.query(config) } as unknown as pg.Pool;

  private query({ name, values }: { name: string; values: unknown[] }): Promise<{ rows: unknown[] }> {
    this.statements.push(name);
    switch (name) {
      case 'ledger-take-for-sending': {
        const [ids] = values as [number[]];
        const previous = this.status;
        const moved = previous === 'pending' || previous === 'failed';
        if (moved) this.status = 'sending';
        return Promise.resolve({
          rows: ids.map((id) => ({ id, previous, run_status: 'running', breaker_open: false, payload: moved ? this.payload : null, moved })),
        });
      }
      case 'ledger-record-sent':
        if (this.failingSentRecords > 0) {
          this.failingSentRecords--;
          return Promise.reject(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }));
        }
        this.status = 'sent';
        this.failuresInARow = 0;
        return Promise.resolve({ rows: [] });
      case 'ledger-record-failure': {
        const [entryId, , status, errorClass, message, inDoubt, health] = values as [number, number, string, string, string, boolean, string];
        this.failures.push({ entryId, status, errorClass, message, inDoubt, health });
        this.status = status;
        if (health === 'down') this.failuresInARow++;
        else if (health === 'answered') this.failuresInARow = 0;
        return Promise.resolve({ rows: [{ in_a_row: this.failuresInARow }] });
      }
      default:
        return Promise.reject(new Error(`the fake ledger does not know the statement ${name}`));
    }
  }
}

/** A run's configuration snapshot, as a run's activities get it, for a service activation over shop.orders. */
export function runConfig(workflowId: string, destination: Record<string, unknown> = {}): RunConfig {
  const parsed = parseConfigs(
    { id: 'dest', businessUnitId: 'bu-1', invitationType: 'service', ...destination },
    {
      id: 'orders',
      destinationId: 'dest',
      source: { kind: 'table', schema: 'shop', name: 'orders' },
      primaryKey: 'order_id',
      mapping: { consumerName: 'customer_name', consumerEmail: 'customer_email', referenceNumber: 'order_id' },
      schedule: { every: '1d' },
    },
  );
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  const { destination: parsedDestination, activation, resolved } = parsed;
  return { workflowId, destination: parsedDestination, activation, resolved } as RunConfig;
}

/** A run context that knows one run; it does not check the calling workflow itself, so an activity's own check is what a test sees. */
export function fakeRunContext(config: RunConfig): RunContext {
  return {
    config: () => Promise.resolve(config),
    shape: () => Promise.reject(new Error('the fake run context has no source shape')),
  };
}

export function activityDeps(parts: Pick<ActivityDeps, 'db' | 'appPool' | 'trustpilot' | 'env'>): ActivityDeps {
  return {
    ...parts,
    warehouses: { get: () => { throw new Error('no warehouse in this test'); } },
    isWorkflowOpen: () => Promise.resolve(true),
    schedules: { pause: () => Promise.resolve() },
  };
}

/** An invitations host whose every answer the test writes; it counts the calls it received. */
export interface ScriptedHost {
  url: string;
  calls: number;
  /** resolves when the next call has arrived */
  nextCall(): Promise<void>;
  answer(respond: (request: IncomingMessage, response: ServerResponse) => void): void;
  close(): Promise<void>;
}

export async function scriptedInvitationsHost(): Promise<ScriptedHost> {
  let respond: (request: IncomingMessage, response: ServerResponse) => void = (_request, response) => response.writeHead(201).end('{}');
  let arrived: (() => void) | undefined;
  const server = createServer((request, response) => {
    host.calls++;
    arrived?.();
    request.resume();
    request.once('end', () => respond(request, response));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host: ScriptedHost = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls: 0,
    nextCall: () => new Promise((resolve) => (arrived = resolve)),
    answer: (next) => (respond = next),
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  return host;
}
