import { parseConfigs, type ActivationConfigInput, type DestinationConfigInput, type ParseConfigsResult, type RunSummary } from '../src/domain/index.ts';

/**
 * Fixtures the unit and the integration tests share: each holds what most tests need, and a test
 * overrides the fields it looks at, so that what it asserts on is written in the test itself.
 */

/** A duration for a test's log line: `12.3s`, or `?` when there is none. */
export function seconds(ms: number | undefined): string {
  return ms === undefined ? '?' : `${(ms / 1000).toFixed(1)}s`;
}

/** A run that succeeded having done nothing: every count zero, no watermark, no warning. */
export function runSummary(overrides: Partial<RunSummary> = {}): RunSummary {
  return {
    runId: 1,
    activationId: 'orders',
    status: 'succeeded',
    startedAt: '2024-05-01T10:00:00.000Z',
    finishedAt: '2024-05-01T10:00:00.000Z',
    error: null,
    failureKind: null,
    fullScan: true,
    sourceRows: 0,
    newRows: 0,
    reconsidered: 0,
    duplicateKeys: 0,
    nullKeys: 0,
    oversizedKeys: 0,
    vanishedRows: 0,
    baselineRows: 0,
    retriedRows: 0,
    sent: 0,
    rejected: 0,
    failed: 0,
    abandoned: 0,
    skippedAlreadySent: 0,
    inDoubt: 0,
    watermarkBefore: null,
    watermarkAfter: null,
    warnings: [],
    ...overrides,
  };
}

/** Destination `acme`, of service invitations, as a configuration file holds it. */
export function destinationInput(overrides: Partial<DestinationConfigInput> = {}): DestinationConfigInput {
  return { id: 'acme', businessUnitId: 'bu-1', invitationType: 'service', ...overrides };
}

/** Activation `orders` of destination `acme`: table `orders`, keyed by order_id, every 5 minutes, the required fields mapped. */
export function activationInput(overrides: Partial<ActivationConfigInput> = {}): ActivationConfigInput {
  return {
    id: 'orders',
    destinationId: 'acme',
    source: { kind: 'table', name: 'orders' },
    primaryKey: 'order_id',
    schedule: { every: '5m' },
    mapping: { consumerName: 'name', consumerEmail: 'email', referenceNumber: 'order_id' },
    ...overrides,
  };
}

/** parseConfigs of a configuration the test means to be valid: a problem fails the test, naming it. */
export function validConfigs(destination: unknown, activation: unknown): Extract<ParseConfigsResult, { ok: true }> {
  const result = parseConfigs(destination, activation);
  if (!result.ok) throw new Error(`expected a valid configuration, got ${JSON.stringify(result.issues)}`);
  return result;
}
