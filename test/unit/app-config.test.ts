import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readEnv } from '../../src/config/env.ts';
import { entriesOf } from '../../src/cli/config-files.ts';
import { destinationConfigSchema, parseConfigs } from '../../src/domain/index.ts';
import { DEMO_DESTINATION_ID, demoActivation, demoDestination } from '../../src/dev/demo.ts';

describe('environment', () => {
  it('applies defaults and treats empty variables as unset', () => {
    const env = readEnv({ WAREHOUSE_DATABASE_URL: '', TEMPORAL_NAMESPACE: '' });
    expect(env).toMatchObject({
      WAREHOUSE_DATABASE_URL: undefined,
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: 'trustpilot-invitations',
      TRUSTPILOT_API_URL: 'https://api.trustpilot.com',
      TRUSTPILOT_INVITATIONS_API_URL: 'https://invitations-api.trustpilot.com',
    });
  });

  it('names every invalid variable at once', () => {
    expect(() =>
      readEnv({ DATABASE_URL: 'mysql://x/y', TEMPORAL_ADDRESS: 'localhost', TRUSTPILOT_INVITATIONS_API_URL: 'ftp://x' }),
    ).toThrow(/DATABASE_URL: must be a postgres.*\n.*TEMPORAL_ADDRESS: must be host:port.*\n.*TRUSTPILOT_INVITATIONS_API_URL: must be an http/s);
  });

  it('strips a trailing slash from API URLs', () => {
    expect(readEnv({ TRUSTPILOT_API_URL: 'http://127.0.0.1:8787/' }).TRUSTPILOT_API_URL).toBe('http://127.0.0.1:8787');
  });
});

describe('shipped configurations', () => {
  it('the demo destination and activation are valid', () => {
    const result = parseConfigs(demoDestination('bu-1', { calls: 50, perSeconds: 5 }), demoActivation({ paused: false }));
    expect(result.ok ? [] : result.issues).toEqual([]);
  });

  // Read as `validate` and `apply` read them: a bundle, one destination or one activation. An
  // activation whose destination the file does not hold uses the demo destination (`npm start`).
  const examples = join(import.meta.dirname, '..', '..', 'examples');
  for (const file of readdirSync(examples).filter((name) => name.endsWith('.json'))) {
    it(`examples/${file} is valid`, () => {
      const entries = entriesOf(JSON.parse(readFileSync(join(examples, file), 'utf8')), file);
      expect(entries).not.toEqual([]);
      const destinations = entries.filter((entry) => entry.kind === 'destination').map((entry) => entry.value);
      for (const destination of destinations) {
        const result = destinationConfigSchema.safeParse(destination);
        expect(result.success ? [] : result.error.issues).toEqual([]);
      }
      for (const { value: activation } of entries.filter((entry) => entry.kind === 'activation')) {
        const { destinationId } = activation as { destinationId: unknown };
        const destination =
          destinations.find((candidate) => (candidate as { id?: unknown }).id === destinationId) ??
          (destinationId === DEMO_DESTINATION_ID ? demoDestination('bu-1') : undefined);
        expect(destination, `destination ${String(destinationId)}`).toBeDefined();
        const result = parseConfigs(destination, activation);
        expect(result.ok ? [] : result.issues).toEqual([]);
      }
    });
  }
});
