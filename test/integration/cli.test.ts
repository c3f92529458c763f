import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveDestination } from '../../src/db/config-store.ts';
import { activationConfigSchema } from '../../src/domain/index.ts';
import { FAKE_DEFAULTS } from '../../src/fake-trustpilot/server.ts';
import { deleteSchedule, describeSchedule, ensureSchedule, scheduleIdFor } from '../../src/temporal/schedules.ts';
import {
  FAST_PACING,
  FAST_RATE_LIMIT,
  ORDER_MAPPING,
  acceptedReferences,
  createOrdersTable,
  createTestContext,
  killCliProcesses,
  orderActivation,
  runCli,
  runToEnd,
  saveServiceActivation,
  segmentRow,
  serviceDestination,
  startCli,
  waitFor,
  type CliResult as CliProcessResult,
  type TestContext,
} from './harness.ts';
import { workerEnvFor } from './processes.ts';

/**
 * The operator's command line as an operator meets it: every command is the compiled CLI
 * (dist/cli/main.js, brought up to date by the global setup) run as a process of its own, against
 * this run's Temporal dev server, Postgres and fake Trustpilot, with a worker on the test's task
 * queue. Each command runs for its happy path and for one bad input (a non-zero exit and a
 * one-line reason on stderr); the assertions are on what the operator sees: stdout, stderr, the
 * exit code, and what the command changed. A process costs most of a second of CPU (loading the
 * Temporal client), so each command is spawned about twice, independent ones concurrently.
 */

/** Commander's hint after a usage error: not part of the reason. */
const HELP_HINT = '(add --help for usage and an example)';
const ESC = '\u001b[';

/** Rows of the activation whose run is kept going (300 ms per call, one at a time) while it is watched. */
const SLOW_ROWS = 40;

/** Names and emails of the segment rows (segmentRow 'CO' / 'CS'), and the bad email: never printed in clear. */
const PERSONAL_DATA = /@shop\.example\.com|Buyer C[OS]|not-an-email/;

interface CliResult extends CliProcessResult {
  /** run with a variable that may turn colours on (FORCE_COLOR, CI) */
  coloured?: boolean;
}

/** The test's environment, with none of the variables colours depend on: only a test's own may turn them on. */
function plainEnvFor(ctx: TestContext): NodeJS.ProcessEnv {
  const env = workerEnvFor(ctx);
  for (const name of ['CI', 'FORCE_COLOR', 'NO_COLOR', 'DEBUG']) delete env[name];
  return env;
}

interface Summary {
  runId: number;
  activationId: string;
  status: string;
  newRows: number;
  sent: number;
  rejected: number;
  failed: number;
  error: string | null;
  failureKind: string | null;
}

/** What a failing expectation shows: the command and everything it printed. */
function transcript(result: CliResult): string {
  return `$ cli ${result.args.join(' ')}\nexit ${String(result.code)}\n--- stdout\n${result.stdout}--- stderr\n${result.stderr}`;
}

/** Not on a terminal, no colour codes (unless a variable asked for them). */
function expectPlain(result: CliResult): void {
  if (!result.coloured) expect(result.stdout + result.stderr, transcript(result)).not.toContain(ESC);
}

function expectSuccess(result: CliResult): void {
  expect(result.code, transcript(result)).toBe(0);
  expect(result.stderr, transcript(result)).toBe('');
  expectPlain(result);
}

/** A refusal: the exit code, and one line on stderr (commander adds its help hint after usage errors). */
function expectRefusal(result: CliResult, reason: RegExp, code = 1): void {
  expect(result.code, transcript(result)).toBe(code);
  expectPlain(result);
  const lines = result.stderr.trimEnd().split('\n').filter((line) => line !== HELP_HINT);
  expect(lines, transcript(result)).toHaveLength(1);
  expect(lines[0], transcript(result)).toMatch(/^error: /);
  expect(lines[0], transcript(result)).toMatch(reason);
}

/** The one JSON document a `--json` command printed. */
function json<T>(result: CliResult): T {
  expectSuccess(result);
  return JSON.parse(result.stdout) as T;
}

/** JSON lines (`run` without a terminal). */
function events(result: CliResult): { event: string; runId?: number; summary?: Summary }[] {
  return result.stdout
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as { event: string; runId?: number; summary?: Summary });
}

describe('the command line, as a process', () => {
  let ctx: TestContext;
  let dir: string;
  /** every schedule this file may create, removed at the end (schedule ids are per namespace, not per test) */
  const scheduled = ['cli-orders', 'cli-race', 'cli-slow', 'cli-broken', 'cli-foreign', 'cli-owned'];

  /** Starts `node dist/cli/main.js ...args` with the test's environment; output is piped, so not a terminal. */
  const start = (args: string[], env: NodeJS.ProcessEnv = {}): { stdout(): string; done: Promise<CliResult> } => {
    const started = startCli(args, { ...plainEnvFor(ctx), ...env });
    return { stdout: started.stdout, done: started.done.then((result) => ({ ...result, coloured: 'FORCE_COLOR' in env || 'CI' in env })) };
  };
  const cli = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> => start(args, env).done;

  const file = async (name: string, content: unknown): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, JSON.stringify(content, null, 2));
    return path;
  };
  const destination = (id: string) => serviceDestination(id, { name: `CLI ${id}`, rateLimit: FAST_RATE_LIMIT });
  const activation = (id: string, table: string, extra: Record<string, unknown> = {}) => orderActivation(id, 'cli-dest', { kind: 'table', schema: 'shop', name: table }, extra);
  /** A schedule of that activation id created by another deployment (another app database), paused. */
  const foreignSchedule = async (id: string) => {
    const config = activationConfigSchema.parse(activation(id, 'cli_orders'));
    await ensureSchedule(ctx.temporal, { activation: config, taskQueue: ctx.taskQueue, deploymentId: 'another-deployment', pausedNote: 'owned elsewhere' });
  };
  const count = async (table: 'app.ledger' | 'app.runs', activationId: string) =>
    Number((await ctx.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).where('activation_id', '=', activationId).executeTakeFirstOrThrow()).n);
  const storedIds = async (table: 'app.destinations' | 'app.activations', id: string) => await ctx.db.selectFrom(table).select('id').where('id', '=', id).execute();

  /** commands started alongside an earlier test's, asserted in a test of their own */
  let failedRun: Promise<CliResult>;
  let foreignApply: Promise<CliResult>;
  let ciList: Promise<CliResult>;

  let files: { good: string; good2: string; bad: string; race: string; half: string };

  beforeAll(async () => {
    ctx = await createTestContext('cli', { rateLimit: null });
    await ctx.startWorker();
    dir = await mkdtemp(join(tmpdir(), 'cli-test-'));
    await Promise.all([
      createOrdersTable(ctx, 'cli_orders', [...[1, 2, 3, 4].map((index) => segmentRow('CO', index)), { ...segmentRow('CO', 5), customer_email: 'not-an-email' }]),
      createOrdersTable(ctx, 'cli_slow', Array.from({ length: SLOW_ROWS }, (_, index) => segmentRow('CS', index + 1))),
    ]);
    files = {
      good: await file('good.json', { destinations: [destination('cli-dest')], activations: [activation('cli-orders', 'cli_orders')] }),
      // cli-orders changed (a name), cli-slow new, cli-race (applied meanwhile) no longer named
      good2: await file('good2.json', {
        destinations: [destination('cli-dest')],
        activations: [activation('cli-orders', 'cli_orders', { name: 'CLI orders' }), activation('cli-slow', 'cli_slow', { concurrency: 1 })],
      }),
      // two problems the file alone shows: no referenceNumber, and both `every` and `cron`
      bad: await file('bad.json', {
        destinations: [destination('cli-bad-dest')],
        activations: [{ ...activation('cli-bad', 'cli_orders'), destinationId: 'cli-bad-dest', mapping: { consumerName: 'customer_name', consumerEmail: 'customer_email' }, schedule: { every: '1d', cron: '0 * * * *' } }],
      }),
      race: await file('race.json', activation('cli-race', 'cli_orders')),
      // a good destination, and an activation whose email column is not in its source
      half: await file('half.json', {
        destinations: [destination('cli-half')],
        activations: [{ ...activation('cli-half', 'cli_orders'), destinationId: 'cli-half', mapping: { ...ORDER_MAPPING, consumerEmail: 'customer_mail' } }],
      }),
    };
  });

  afterAll(async () => {
    killCliProcesses();
    ctx.fake.setFaults({});
    await Promise.all(scheduled.map((id) => deleteSchedule(ctx.temporal, id).catch(() => false)));
    await ctx.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('shows help (an example for a command), validates files listing every problem, and applies a first file', async () => {
    const [program, command, unknown, good, bad, first] = await Promise.all([
      cli(['--help']),
      cli(['run', '--help']),
      cli(['frobnicate']),
      cli(['validate', files.good]),
      cli(['validate', files.bad]),
      cli(['apply', files.good]),
    ]);
    expectSuccess(program);
    expect(program.stdout).toMatch(/^Usage: cli \[options\] \[command\]\n/);
    for (const name of ['validate', 'apply', 'list', 'show', 'pause', 'resume', 'delete', 'run', 'trigger', 'runs', 'progress', 'recover', 'rows', 'requeue', 'dry-run', 'test-row', 'check', 'erase', 'sync-schedules', 'register-search-attributes', 'reader-sql']) {
      expect(program.stdout).toMatch(new RegExp(`^ {2}${name} `, 'm'));
    }
    expectSuccess(command);
    expect(command.stdout).toMatch(/^Usage: cli run \[options\] <activation>\n/);
    expect(command.stdout).toMatch(/^ {2}--no-wait +print the run and workflow ids and return$/m);
    expect(command.stdout).toMatch(/\nExamples:\n {2}\$ npm run cli -- run demo-orders\n {2}\$ npm run cli -- run demo-orders --no-wait\n+$/);
    expectRefusal(unknown, /^error: unknown command 'frobnicate'$/);
    expect(unknown.stdout).toBe('');

    // validate: sources checked too (a database is configured), nothing saved
    expectSuccess(good);
    expect(good.stdout).toBe('✓ valid: 1 destination(s), 1 activation(s)\n');
    expectRefusal(bad, /^error: 2 problem\(s\)$/);
    const problems = bad.stdout.trimEnd().split('\n');
    expect(problems).toHaveLength(2);
    for (const problem of problems) expect(problem.startsWith(`✗ ${files.bad}: activation 'cli-bad': `)).toBe(true);
    expect(bad.stdout).toContain('referenceNumber');
    expect(bad.stdout).toMatch(/set exactly one of 'every'.* or 'cron'/);
    expect(await storedIds('app.destinations', 'cli-bad-dest')).toEqual([]);

    expectSuccess(first);
    expect(first.stdout).toBe('Plan:\n  + destination cli-dest (create)\n  + activation cli-orders (create)\n✓ applied: 2 change(s), schedules in sync\n');
    expect(await describeSchedule(ctx.temporal, 'cli-orders')).toMatchObject({ paused: false });
  });

  it('applies: two concurrent first applies both succeed; a bad activation saves nothing; then a plan of changes with --prune', async () => {
    const [raceA, raceB, half] = await Promise.all([cli(['apply', files.race]), cli(['apply', files.race]), cli(['apply', files.half])]);
    // Both succeed; whichever plans second may already see the other's activation.
    for (const race of [raceA, raceB]) {
      expectSuccess(race);
      expect(race.stdout).toMatch(/^Plan:\n {2}[+=] activation cli-race \((create|unchanged)\)\n✓ applied: [01] change\(s\), schedules in sync\n$/);
    }
    expect(raceA.stdout + raceB.stdout).toContain('+ activation cli-race (create)');
    expect(await describeSchedule(ctx.temporal, 'cli-race')).toMatchObject({ paused: false });
    expectRefusal(half, /^error: 1 problem\(s\); nothing was saved$/);
    expect(half.stdout).toMatch(/^✗ \S+half\.json: activation 'cli-half': .*customer_mail.*did you mean 'customer_email'\?$/m);
    expect(await storedIds('app.destinations', 'cli-half')).toEqual([]);

    const pruned = await cli(['apply', files.good2, '--prune']);
    expectSuccess(pruned);
    expect(pruned.stdout.split('\n')).toEqual([
      'Plan:',
      '  = destination cli-dest (unchanged)',
      '  ~ activation cli-orders (change)',
      '  + activation cli-slow (create)',
      '  - activation cli-race (delete)',
      '✓ applied: 3 change(s), schedules in sync',
      '',
    ]);
    expect(await describeSchedule(ctx.temporal, 'cli-race')).toBeUndefined();
    expect(await describeSchedule(ctx.temporal, 'cli-slow')).toMatchObject({ paused: false });
  });

  it('pauses with a reason, lists, shows an activation and a destination; an unknown id names the known ones', async () => {
    const [paused, pauseUnknown, showUnknown, resumeBare] = await Promise.all([
      cli(['pause', 'cli-orders', '--reason', 'catalogue upload pending']),
      cli(['pause', 'nope']),
      cli(['show', 'nope']),
      cli(['resume']),
    ]);
    expectSuccess(paused);
    expect(paused.stdout).toBe('paused cli-orders: catalogue upload pending\n');
    expect(await describeSchedule(ctx.temporal, 'cli-orders')).toMatchObject({ paused: true, note: 'catalogue upload pending' });
    expectRefusal(pauseUnknown, /^error: Activation 'nope' does not exist \(known: cli-orders, cli-slow\)$/);
    expectRefusal(showUnknown, /'nope'.* \(known: cli-orders, cli-slow, cli-dest\)$/);
    expectRefusal(resumeBare, /^error: missing required argument 'activation'$/);

    // NO_COLOR: no colour codes even where CI would turn them on.
    const [list, listExtra, show, showDestination] = await Promise.all([
      cli(['list'], { CI: 'true', NO_COLOR: '1' }),
      cli(['list', 'extra']),
      cli(['show', 'cli-orders'], { FORCE_COLOR: '1' }),
      cli(['show', 'cli-dest']),
    ]);
    expectSuccess(list);
    expect(list.stdout).not.toContain(ESC);
    expect(list.stdout).toMatch(/^Destinations\n/);
    expect(list.stdout).toMatch(/^│ cli-dest +│ dev-business-unit +│ service +│ 100000 \/ 1s +│ 2 +│$/m);
    expect(list.stdout).toMatch(/^Activations\n/m);
    expect(list.stdout).toMatch(/^│ cli-orders +│ cli-dest +│ table shop\.cli_orders +│ every 1d +│ paused: catalogue upload pending +│ +│ never +│$/m);
    expect(list.stdout).toMatch(/^│ cli-slow +│ cli-dest +│ table shop\.cli_slow +│ every 1d +│ active +│ in \d+[smhd] +│ never +│$/m);
    expectRefusal(listExtra, /^error: too many arguments for 'list'/);

    // Colours forced on do show: the checks of every other output here could see them.
    expectSuccess(show);
    expect(show.stdout).toContain(ESC);
    const shown = show.stdout.replace(new RegExp(`${ESC.replace('[', '\\[')}\\d+m`, 'g'), '');
    expect(shown).toMatch(/^activation +cli-orders \(CLI orders\)$/m);
    expect(shown).toMatch(/^destination +cli-dest → business unit dev-business-unit, service invitations$/m);
    expect(shown).toMatch(/^source +table shop\.cli_orders$/m);
    expect(shown).toMatch(/^schedule +every 1d, paused: catalogue upload pending$/m);
    expect(shown).toMatch(/^ledger +empty$/m);
    expect(shown).toMatch(/\nRecent runs\n\(none\)\n$/);
    expectSuccess(showDestination);
    expect(showDestination.stdout).toMatch(/^destination +cli-dest \(CLI cli-dest\)$/m);
    expect(showDestination.stdout).toMatch(/^credentials +grant=client_credentials, apiKeyEnv=TRUSTPILOT_API_KEY, apiSecretEnv=TRUSTPILOT_API_SECRET, businessUserIdEnv=TRUSTPILOT_BUSINESS_USER_ID$/m);
    expect(showDestination.stdout).toMatch(/^activations +cli-orders, cli-slow$/m);
    // The names of the variables holding secrets, never their values.
    expect(showDestination.stdout).not.toContain(FAKE_DEFAULTS.apiSecret);
  });

  it('resumes; dry-run and test-row preview masked, sending and recording nothing', async () => {
    const requestsBefore = ctx.fake.stats().requests;
    const [resumed, dryRun, dryRunBad, testRow, unknownKey] = await Promise.all([
      cli(['resume', 'cli-orders']),
      cli(['dry-run', 'cli-orders']),
      cli(['dry-run', 'cli-orders', '--sample', '0']),
      cli(['test-row', 'cli-orders', '--key', 'CO-002']),
      cli(['test-row', 'cli-orders', '--key', 'CO-999']),
    ]);
    expectSuccess(resumed);
    expect(resumed.stdout).toMatch(/^resumed cli-orders: next run in \d+[smhd]\n$/);
    expect(await describeSchedule(ctx.temporal, 'cli-orders')).toMatchObject({ paused: false });

    expectSuccess(dryRun);
    expect(dryRun.stdout).toMatch(/^Dry run of cli-orders \(nothing sent, nothing recorded\)$/m);
    expect(dryRun.stdout).toMatch(/^scan +the whole segment$/m);
    expect(dryRun.stdout).toMatch(/^rows scanned +5 \(5 keys\)$/m);
    expect(dryRun.stdout).toMatch(/^new rows +5$/m);
    expect(dryRun.stdout).toMatch(/^Sample: 5 row\(s\) the run would build: 4 would be sent, 1 rejected$/m);
    expect(dryRun.stdout).toMatch(/^│ 1 +│ .*consumerEmail.* +│$/m);
    // Three examples, names and emails reduced to their first letters.
    expect(dryRun.stdout.match(/^row CO-00\d:$/gm)).toEqual(['row CO-001:', 'row CO-002:', 'row CO-003:']);
    expect(dryRun.stdout).toContain('"consumerEmail": "c•••@s••••••.com"');
    expect(dryRun.stdout).toContain('"consumerName": "B•••• C• •"');
    expect(dryRun.stdout).toContain('"referenceNumber": "CO-001"');
    expectRefusal(dryRunBad, /^error: option '--sample <n>' argument '0' is invalid\. must be a positive whole number$/);

    expectSuccess(testRow);
    expect(testRow.stdout).toMatch(/^row +CO-002 of cli-orders$/m);
    expect(testRow.stdout).toMatch(/^ledger +not recorded yet \(new\)$/m);
    expect(testRow.stdout).toMatch(/^valid +yes$/m);
    expect(testRow.stdout).toContain('"referenceNumber": "CO-002"');
    expect(testRow.stdout).toContain('"consumerEmail": "c•••@s••••••.com"');
    expect(testRow.stdout).toMatch(/add --send to send exactly this invitation\n$/);
    expectRefusal(unknownKey, /^error: No row of activation 'cli-orders' has the key CO-999 /);

    for (const output of [dryRun.stdout, testRow.stdout]) expect(output).not.toMatch(PERSONAL_DATA);
    expect(ctx.fake.stats().requests).toBe(requestsBefore);
    expect(await count('app.ledger', 'cli-orders')).toBe(0);
    expect(await count('app.runs', 'cli-orders')).toBe(0);
  });

  it('test-row --send sends exactly that row and records it; a second --send refuses', async () => {
    const sent = await cli(['test-row', 'cli-orders', '--key', 'CO-002', '--send']);
    expectSuccess(sent);
    expect(sent.stdout).toMatch(/^run \d+: sent \(HTTP 20\d(, invitation \S+)?\)$/m);
    expect(sent.stdout).not.toMatch(PERSONAL_DATA);
    expect(ctx.fake.accepted().map((invitation) => invitation.body.consumerEmail)).toEqual(['co.2@shop.example.com']);
    expect(await ctx.db.selectFrom('app.ledger').select(['row_key', 'status']).where('activation_id', '=', 'cli-orders').execute()).toEqual([{ row_key: 'CO-002', status: 'sent' }]);

    const again = await cli(['test-row', 'cli-orders', '--key', 'CO-002', '--send']);
    expectRefusal(again, /^error: Row CO-002 was already sent; a row is never sent twice$/);
    expect(ctx.fake.accepted()).toHaveLength(1);
  });

  it('runs an activation (one JSON summary; a failed run exits 2), lists its runs and rows without personal data', async () => {
    await saveServiceActivation(ctx, 'cli-broken', { kind: 'table', schema: 'shop', name: 'cli_missing' }, { destination: FAST_PACING });
    const [ran, broken, bare, idle] = await Promise.all([
      cli(['run', 'cli-orders', '--json']),
      cli(['run', 'cli-broken', '--json']),
      cli(['run']),
      cli(['progress', 'cli-slow']),
    ]);
    const summary = json<Summary>(ran);
    // CO-002 went with test-row: not new, not sent again.
    expect(summary).toMatchObject({ activationId: 'cli-orders', status: 'succeeded', newRows: 4, sent: 3, rejected: 1, failed: 0 });
    expect(acceptedReferences(ctx, 'CO').sort()).toEqual(['CO-001', 'CO-002', 'CO-003', 'CO-004']);
    expect(broken.code, transcript(broken)).toBe(2);
    expect(broken.stderr, transcript(broken)).toBe('');
    expect(JSON.parse(broken.stdout)).toMatchObject({ activationId: 'cli-broken', status: 'failed', failureKind: 'misconfigured', error: expect.stringContaining('cli_missing') as string });
    expectRefusal(bare, /^error: missing required argument 'activation'$/);
    expectRefusal(idle, /^error: no run of cli-slow is in progress \(see `runs cli-slow`\)$/);

    const [rejected, rows, rowsBad, runsFailed, runsText, runsBad] = await Promise.all([
      cli(['rows', 'cli-orders', '--status', 'rejected', '--json']),
      cli(['rows', 'cli-orders', '--key', 'CO-001,CO-002', '--key', 'CO-005', '--run', String(summary.runId)]),
      cli(['rows', 'cli-orders', '--status', 'bogus']),
      cli(['runs', '--status', 'failed', '--json']),
      cli(['runs', 'cli-orders', '--limit', '1']),
      cli(['runs', '--limit', '0']),
    ]);
    expect(json<{ rows: unknown[] }>(rejected).rows).toEqual([expect.objectContaining({ rowKey: 'CO-005', status: 'rejected', error: expect.stringContaining('consumerEmail') as string })]);
    // --key and --run together: CO-002 was last handled by test-row's run, not this one.
    expectSuccess(rows);
    expect(rows.stdout).toMatch(/^│ key +│ status +│ attempts +│ runs +│ in doubt +│ last run +│ updated +│ reason +│$/m);
    expect(rows.stdout.match(/^│ CO-\d+ /gm)?.sort()).toEqual(['│ CO-001 ', '│ CO-005 ']);
    expect(rows.stdout).toMatch(new RegExp(`^│ CO-001 +│ sent +│ 1 +│ \\d+ +│ +│ ${summary.runId} +│`, 'm'));
    expect(rows.stdout).toMatch(/^│ CO-005 +│ rejected +│ .*consumerEmail/m);
    for (const output of [rejected.stdout, rows.stdout]) expect(output).not.toMatch(PERSONAL_DATA);
    expectRefusal(rowsBad, /^error: option '--status <status>' argument 'bogus' is invalid\. Allowed choices are new, pending, /);

    expect(json<Summary[]>(runsFailed)).toEqual([expect.objectContaining({ activationId: 'cli-broken', status: 'failed' })]);
    expectSuccess(runsText);
    expect(runsText.stdout.match(/^│ \d+ /gm)).toEqual([`│ ${summary.runId} `]);
    expect(runsText.stdout).toMatch(new RegExp(`^│ ${summary.runId} +│ cli-orders +│ succeeded +│ .*│ full, 5 rows +│ 4 new → 3 sent, 1 rejected, 0 failed +│ +│$`, 'm'));
    expectRefusal(runsBad, /^error: option '--limit <n>' argument '0' is invalid\. must be a positive whole number$/);
  });

  it('requeues a fixed rejected row: the next run re-reads and sends it, printing JSON lines ending with the finished event', async () => {
    await ctx.warehouseAdmin.updateTable('shop.cli_orders').set({ customer_email: 'co.5@shop.example.com' }).where('order_id', '=', 'CO-005').execute();
    const [requeued, noStatus] = await Promise.all([cli(['requeue', 'cli-orders', '--status', 'rejected']), cli(['requeue', 'cli-orders'])]);
    expectSuccess(requeued);
    expect(requeued.stdout).toBe('requeued 1 rejected row(s) of cli-orders: the next run reads and rebuilds them\n');
    expectRefusal(noStatus, /^error: required option '--status <status>' not specified$/);

    const ran = await cli(['run', 'cli-orders']);
    expectSuccess(ran);
    const lines = events(ran);
    for (const line of lines.slice(0, -1)) expect(line.event).toBe('progress');
    expect(lines.at(-1)).toMatchObject({ event: 'finished', summary: { activationId: 'cli-orders', status: 'succeeded', sent: 1, rejected: 0 } });
    expect(ctx.fake.accepted().filter((invitation) => invitation.body.referenceNumber === 'CO-005').map((invitation) => invitation.body.consumerEmail)).toEqual(['co.5@shop.example.com']);
  });

  it('triggers the schedule and prints the workflow id it started', async () => {
    const [triggered, unknown] = await Promise.all([cli(['trigger', 'cli-orders']), cli(['trigger', 'nope'])]);
    expectSuccess(triggered);
    const workflowId = /^triggered cli-orders: workflow (activation-cli-orders-\S+) \(skipped if another run is in progress; see `runs cli-orders`\)\n$/.exec(triggered.stdout)?.[1];
    expect(workflowId, transcript(triggered)).toBeDefined();
    expect(await ctx.client.waitForRun(workflowId ?? '')).toMatchObject({ activationId: 'cli-orders', status: 'succeeded', newRows: 0, sent: 0 });
    expectRefusal(unknown, /^error: Activation 'nope' does not exist \(known: cli-broken, cli-orders, cli-slow\)$/);
  });

  describe('a run kept going by a slow Trustpilot (300 ms a call, one at a time)', () => {
    let watched: ReturnType<typeof start>;
    let running: { id: number; workflow_id: string };

    it('shows its progress, and recover ends it: the next run (--no-wait) is not skipped and sends the rest once', async () => {
      // Meanwhile, on another activation: a failed run followed without --json (asserted below).
      failedRun = cli(['run', 'cli-broken']);
      ctx.fake.setFaults({ latencyMs: 300 });
      try {
        watched = start(['run', 'cli-slow']);
        running = await waitFor(
          'the run to send',
          async () => {
            const run = await ctx.db.selectFrom('app.runs').select(['id', 'workflow_id']).where('activation_id', '=', 'cli-slow').where('status', '=', 'running').executeTakeFirst();
            const progress = run && (await ctx.client.getRun(run.workflow_id).progress().catch(() => undefined));
            return progress && progress.sent > 0 ? run : undefined;
          },
          30_000,
          100,
        );

        const [progress, refused] = await Promise.all([cli(['progress', 'cli-slow']), cli(['recover', 'cli-slow'])]);
        expectSuccess(progress);
        expect(progress.stdout).toMatch(
          new RegExp(`^run ${running.id} of cli-slow: sending, \\d+ of ${SLOW_ROWS} handled — \\d+ sent, 0 rejected, 0 failed, [01] in flight \\(started \\S+\\)\\n$`),
        );
        expectRefusal(refused, /^error: recover ends the current run of cli-slow \(its rows wait for the next run\): add --yes to proceed$/);

        // The waiting `run` prints a progress line every 2 s: let it print one before the run is ended.
        await waitFor('a progress line', () => Promise.resolve(watched.stdout().includes('"event":"progress"') || undefined), 10_000, 50);
        const recovered = await cli(['recover', 'cli-slow', '--yes']);
        expectSuccess(recovered);
        expect(recovered.stdout).toContain(`recovered cli-slow: run ${running.id} marked abandoned; 1 workflow(s) terminated (${running.workflow_id}); the next run sends what is left\n`);
        expect(await ctx.db.selectFrom('app.runs').select('status').where('id', '=', running.id).executeTakeFirst()).toEqual({ status: 'abandoned' });
        expect((await ctx.temporal.workflow.getHandle(running.workflow_id).describe()).status.name).toBe('TERMINATED');
      } finally {
        ctx.fake.setFaults({});
      }

      const started = await cli(['run', 'cli-slow', '--no-wait']);
      expectSuccess(started);
      const [, runId, workflowId] = /^started run (\d+) of cli-slow: workflow (activation-cli-slow-manual-\S+)\n$/.exec(started.stdout) ?? [];
      expect(workflowId, transcript(started)).toBeDefined();
      expect(await ctx.db.selectFrom('app.runs').select('id').where('workflow_id', '=', workflowId ?? '').executeTakeFirst()).toEqual({ id: Number(runId) });
      // waitForRun throws RunOverlapError for a skipped run.
      expect(await ctx.client.waitForRun(workflowId ?? '')).toMatchObject({ runId: Number(runId), activationId: 'cli-slow', status: 'succeeded' });
      const references = acceptedReferences(ctx, 'CS');
      expect(new Set(references).size).toBe(SLOW_ROWS);
      expect(references).toHaveLength(SLOW_ROWS);
    });

    it('the `run` that was waiting for it printed JSON progress lines, then the finished event of the abandoned run, and exits 2', async () => {
      const ended = await watched.done;
      const lines = events(ended);
      expect(lines.length, transcript(ended)).toBeGreaterThanOrEqual(2);
      for (const line of lines.slice(0, -1)) expect(line).toMatchObject({ event: 'progress', runId: running.id, activationId: 'cli-slow' });
      expect(ended.stderr, transcript(ended)).toBe('');
      expect(ended.code, transcript(ended)).toBe(2);
      expect(lines.at(-1), transcript(ended)).toMatchObject({ event: 'finished', summary: { runId: running.id, status: 'abandoned' } });
    });
  });

  it('a failed run without --json prints its finished event and exits 2', async () => {
    const failed = await failedRun;
    expect(failed.stderr, transcript(failed)).toBe('');
    expect(failed.code, transcript(failed)).toBe(2);
    expect(events(failed).at(-1)).toMatchObject({ event: 'finished', summary: { activationId: 'cli-broken', status: 'failed', failureKind: 'misconfigured' } });
  });

  it('deletes an activation and its schedule only with --yes, keeping its ledger: applied again, it resends nothing', async () => {
    const [refused, deleted] = await Promise.all([cli(['delete', 'activation', 'cli-orders']), cli(['delete', 'activation', 'cli-orders', '--yes'])]);
    expectRefusal(refused, /^error: deleting activation cli-orders removes its schedule \(its ledger is kept\): add --yes to proceed$/);
    expectSuccess(deleted);
    expect(deleted.stdout).toBe('deleted activation cli-orders and its schedule; its ledger is kept (apply it again to resume without resending)\n');
    expect(await describeSchedule(ctx.temporal, 'cli-orders')).toBeUndefined();
    expect(await count('app.ledger', 'cli-orders')).toBe(5);

    const reapplied = await cli(['apply', files.good2]);
    expectSuccess(reapplied);
    expect(reapplied.stdout).toContain('  + activation cli-orders (create)\n');
    expect(await describeSchedule(ctx.temporal, 'cli-orders')).toMatchObject({ paused: false });
    const accepted = ctx.fake.accepted().length;
    expect(await runToEnd(ctx, 'cli-orders')).toMatchObject({ status: 'succeeded', newRows: 0, sent: 0 });
    expect(ctx.fake.accepted()).toHaveLength(accepted);
  });

  it('checks destinations; erase wants --yes; sync-schedules creates a missing schedule; search attributes already registered', async () => {
    await saveDestination(ctx.db, {
      ...destination('cli-nocreds'),
      credentials: { grant: 'client_credentials', apiKeyEnv: 'CLI_TEST_MISSING_KEY', apiSecretEnv: 'CLI_TEST_MISSING_SECRET', businessUserIdEnv: 'TRUSTPILOT_BUSINESS_USER_ID' },
    });
    const emails = join(dir, 'erase.txt');
    await writeFile(emails, '# customers who asked\nco.3@shop.example.com\n\n');
    // cli-broken was stored without a schedule.
    const [checked, missing, eraseRefused, synced, registered, registerBad, readerBad] = await Promise.all([
      cli(['check', 'cli-dest']),
      cli(['check', 'cli-nocreds']),
      cli(['erase', 'cli-dest', '--emails-file', emails]),
      cli(['sync-schedules']),
      cli(['register-search-attributes']),
      cli(['register-search-attributes', 'extra']),
      cli(['reader-sql', '--role']),
    ]);
    expectSuccess(checked);
    expect(checked.stdout).toMatch(/^✓ credentials accepted \(client_credentials grant, token obtained\)\n✓ business unit dev-business-unit answers with [1-9]\d* invitation template\(s\)\n/);
    expect(checked.stdout).toMatch(/^│ template id +│ name +│ locale +│ type +│ default +│$/m);
    expect(checked.stdout).toMatch(/use an id as serviceTemplateId \/ productTemplateId/);
    expectRefusal(missing, /^error: Destination 'cli-nocreds' reads its credentials from environment variables that are not set here: CLI_TEST_MISSING_KEY, CLI_TEST_MISSING_SECRET \(/);

    expectRefusal(eraseRefused, /^error: erasing Trustpilot data for 1 customer\(s\) cannot be undone: add --yes to proceed$/);
    expect(acceptedReferences(ctx, 'CO')).toContain('CO-003');

    expectSuccess(synced);
    expect(synced.stdout).toBe('✓ cli-broken: schedule created\n✓ cli-orders: schedule updated\n✓ cli-slow: schedule updated\n');
    expect(await describeSchedule(ctx.temporal, 'cli-broken')).toMatchObject({ paused: false });
    expectSuccess(registered);
    expect(registered.stdout).toBe('namespace default already has every search attribute runs carry\n');
    expectRefusal(registerBad, /^error: too many arguments for 'register-search-attributes'/);
    expectRefusal(readerBad, /^error: option '--role <name>' argument missing$/);
  });

  it('erases with --yes; sync-schedules reports one it cannot sync by id and carries on; reader-sql grants what activations read', async () => {
    // A stored activation whose schedule id another deployment holds; cli-slow, after it, lost its schedule.
    await foreignSchedule('cli-owned');
    await saveServiceActivation(ctx, 'cli-owned', { kind: 'table', schema: 'shop', name: 'cli_owned_orders' }, { destination: FAST_PACING });
    await deleteSchedule(ctx.temporal, 'cli-slow');
    await foreignSchedule('cli-foreign');
    const foreignFile = await file('foreign.json', { destinations: [destination('cli-half')], activations: [{ ...activation('cli-foreign', 'cli_orders'), destinationId: 'cli-half' }] });
    foreignApply = cli(['apply', foreignFile]);
    ciList = cli(['list'], { CI: 'true' });
    const [erased, partial, readerSql] = await Promise.all([
      cli(['erase', 'cli-dest', '--emails-file', join(dir, 'erase.txt'), '--yes']),
      cli(['sync-schedules']),
      cli(['reader-sql']),
      foreignApply,
      ciList,
    ]);
    expectSuccess(erased);
    expect(erased.stdout).toBe('Trustpilot accepted the erasure request for 1 customer(s) of business unit dev-business-unit\n');
    expect(acceptedReferences(ctx, 'CO').sort()).toEqual(['CO-001', 'CO-002', 'CO-004', 'CO-005']);

    expectRefusal(partial, /^error: 1 schedule\(s\) not in sync; the others are$/);
    expect(partial.stdout.split('\n')).toEqual([
      '✓ cli-broken: schedule updated',
      '✓ cli-orders: schedule updated',
      '✗ cli-owned: Schedule activation:cli-owned belongs to another deployment (another app database); it was left alone. Use another activation id, or delete that schedule from the deployment that owns it.',
      '✓ cli-slow: schedule created',
      '',
    ]);
    expect(await describeSchedule(ctx.temporal, 'cli-owned')).toMatchObject({ paused: true, note: 'owned elsewhere' });
    expect(await describeSchedule(ctx.temporal, 'cli-slow')).toMatchObject({ paused: false });

    expectSuccess(readerSql);
    const role = '"trustpilot_segment_reader"';
    const lines = readerSql.stdout.split('\n').map((line) => line.trim());
    expect(lines[0]).toBe('-- Run as an administrator of the warehouse database; segments are then read as trustpilot_segment_reader.');
    expect(lines).toContain(`CREATE ROLE ${role} LOGIN PASSWORD '<choose a password>' NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;`);
    expect(lines).toContain(`GRANT CONNECT ON DATABASE "${new URL(ctx.readerUrl).pathname.slice(1)}" TO ${role};`);
    expect(lines.filter((line) => line.startsWith('GRANT USAGE'))).toEqual([`GRANT USAGE ON SCHEMA "shop" TO ${role};`]);
    expect(lines.filter((line) => line.startsWith('GRANT SELECT'))).toEqual(
      ['cli_missing', 'cli_orders', 'cli_owned_orders', 'cli_slow'].map((table) => `GRANT SELECT ON "shop"."${table}" TO ${role};`),
    );
  });

  it('a failed apply saves nothing and leaves alone a schedule that another deployment owns', async () => {
    const refused = await foreignApply;
    expectRefusal(refused, /^error: Schedule activation:cli-foreign belongs to another deployment/);
    expect(refused.stdout).toContain('  + activation cli-foreign (create)\n');
    expect(await storedIds('app.destinations', 'cli-half')).toEqual([]);
    expect(await storedIds('app.activations', 'cli-foreign')).toEqual([]);
    expect(await describeSchedule(ctx.temporal, 'cli-foreign')).toMatchObject({ paused: true, note: 'owned elsewhere' });
  });

  it('prints no colour codes when stdout is not a terminal, CI or not', async () => {
    const listed = await ciList;
    expect(listed.code, transcript(listed)).toBe(0);
    expect(listed.stdout).toMatch(/^│ cli-orders +│ cli-dest +│/m);
    expect(listed.stdout, transcript(listed)).not.toContain(ESC);
  });
});

describe('the command line reports what it sees: live counts, cut lists, refusals and warnings', () => {
  let ctx: TestContext;
  const scheduled = ['rep-orders', 'rep-slow', 'rep-warn'];
  /** Names and emails of this block's rows (segmentRow 'RP' / 'RS' / 'RW'), the bad email, and a key that is an email: never printed. */
  const PERSONAL = /@shop\.example\.com|Buyer R[PSW]|not-an-email|nobody@nowhere\.example/;

  const cli = (args: string[]): Promise<CliResult> => runCli(args, plainEnvFor(ctx));
  const statuses = async (activationId: string) =>
    Object.fromEntries(
      (await ctx.db.selectFrom('app.ledger').select(['row_key', 'status']).where('activation_id', '=', activationId).execute()).map((row) => [row.row_key, row.status]),
    );

  beforeAll(async () => {
    ctx = await createTestContext('cli-report', { rateLimit: null });
    await ctx.startWorker();
    await Promise.all([
      // 60 rows, two of them with a bad email
      createOrdersTable(
        ctx,
        'rep_orders',
        Array.from({ length: 60 }, (_, index) => (index === 4 || index === 9 ? { ...segmentRow('RP', index + 1), customer_email: 'not-an-email' } : segmentRow('RP', index + 1))),
      ),
      createOrdersTable(ctx, 'rep_slow', Array.from({ length: 40 }, (_, index) => segmentRow('RS', index + 1))),
      createOrdersTable(ctx, 'rep_warn', Array.from({ length: 3 }, (_, index) => segmentRow('RW', index + 1))),
    ]);
    await saveServiceActivation(ctx, 'rep-orders', { kind: 'table', schema: 'shop', name: 'rep_orders' }, { destination: FAST_PACING });
    await saveServiceActivation(ctx, 'rep-slow', { kind: 'table', schema: 'shop', name: 'rep_slow' }, { destination: FAST_PACING, activation: { concurrency: 1 } });
    // one key twice, and a row without a key: the run goes on, and warns
    await saveServiceActivation(
      ctx,
      'rep-warn',
      {
        kind: 'query',
        sql: `select order_id, customer_name, customer_email from shop.rep_warn
              union all select order_id, customer_name, customer_email from shop.rep_warn where order_id = 'RW-001'
              union all select null::text, customer_name, customer_email from shop.rep_warn where order_id = 'RW-002'`,
      },
      { destination: FAST_PACING },
    );
  });

  afterAll(async () => {
    killCliProcesses();
    ctx.fake.setFaults({});
    await Promise.all(scheduled.map((id) => deleteSchedule(ctx.temporal, id).catch(() => false)));
    await ctx.close();
  });

  it("list, runs and show count a running run's rows live and mark them so far; a skipped run took —; show says why a paused schedule has no next run", async () => {
    // 500 ms a call, one at a time: the run lasts about 20 s, longer than the commands that watch it
    ctx.fake.setFaults({ latencyMs: 500 });
    let handle;
    try {
      handle = await ctx.client.start('rep-slow');
      const workflowId = handle.workflowId;
      const seen = await waitFor(
        'the run to send a few rows',
        async () => {
          const progress = await ctx.client.getRun(workflowId).progress().catch(() => undefined);
          return progress && progress.sent >= 3 ? progress : undefined;
        },
        30_000,
        100,
      );
      // Started while that run goes: skipped, at once.
      const [skipped, paused] = await Promise.all([cli(['run', 'rep-slow', '--json']), cli(['pause', 'rep-orders', '--reason', 'catalogue upload pending'])]);
      expect(skipped.code, transcript(skipped)).toBe(2);
      const skippedRun = JSON.parse(skipped.stdout) as Summary;
      expect(skippedRun).toMatchObject({ status: 'skipped' });
      expectSuccess(paused);

      const [runsText, runsJson, list, show] = await Promise.all([cli(['runs', 'rep-slow']), cli(['runs', 'rep-slow', '--json']), cli(['list']), cli(['show', 'rep-orders'])]);
      const running = json<Summary[]>(runsJson).find((run) => run.runId === seen.runId);
      expect(running, transcript(runsJson)).toMatchObject({ status: 'running', newRows: 40, rejected: 0, failed: 0 });
      // counted from the ledger when the command ran: at least what the run had said before
      expect(running?.sent ?? 0).toBeGreaterThanOrEqual(seen.sent);
      expectSuccess(runsText);
      expect(runsText.stdout).toMatch(new RegExp(`^│ ${seen.runId} +│ rep-slow +│ running +│ [^│]+│ running +│ +│ full, 40 rows +│ 40 new → [1-9]\\d* sent, 0 rejected, 0 failed so far +│ +│$`, 'm'));
      // a skipped run's two stamps come from two clocks: no duration, never a negative one
      expect(runsText.stdout).toMatch(new RegExp(`^│ ${skippedRun.runId} +│ rep-slow +│ skipped +│ [^│]+│ — +│ +│ +│ +│ run ${seen.runId} .*still in progress +│$`, 'm'));
      expect(runsText.stdout).not.toMatch(/-\d+\.\ds/);
      expectSuccess(list);
      expect(list.stdout).toMatch(/^│ rep-slow +│ rep-slow +│ table shop\.rep_slow +│ every 1d +│ no schedule \(run sync-schedules\) +│ +│ running \d+[smhd] ago: 40 new → [1-9]\d* sent, 0 rejected, 0 failed so far +│$/m);
      expectSuccess(show);
      expect(show.stdout).toMatch(/^schedule +every 1d, paused: catalogue upload pending$/m);
      expect(show.stdout).toMatch(/^next run +paused \(reason: catalogue upload pending; `resume` brings it back\)$/m);
    } finally {
      ctx.fake.setFaults({});
    }
    const ended = await handle.result();
    expect(ended).toMatchObject({ status: 'succeeded', sent: 40 });
  });

  it('rows says when it shows only part of the rows, and its JSON carries the total', async () => {
    expect(await runToEnd(ctx, 'rep-orders')).toMatchObject({ status: 'succeeded', newRows: 60, sent: 58, rejected: 2 });
    const [page, pageJson, rejected, short] = await Promise.all([
      cli(['rows', 'rep-orders']),
      cli(['rows', 'rep-orders', '--json', '--limit', '5']),
      cli(['rows', 'rep-orders', '--status', 'rejected']),
      cli(['rows', 'rep-orders', '--status', 'sent', '--limit', '58']),
    ]);
    expectSuccess(page);
    expect(page.stdout.match(/^│ RP-\d+ /gm)).toHaveLength(50);
    expect(page.stdout).toMatch(/\nshowing 50 of 60 \(use --limit 60 for all, or --status \/ --run \/ --key to narrow\)\n$/);
    const paged = json<{ activationId: string; total: number; shown: number; rows: { rowKey: string }[] }>(pageJson);
    expect(paged).toMatchObject({ activationId: 'rep-orders', total: 60, shown: 5 });
    expect(paged.rows).toHaveLength(5);
    expectSuccess(rejected);
    expect(rejected.stdout.match(/^│ RP-\d+ /gm)?.sort()).toEqual(['│ RP-005 ', '│ RP-010 ']);
    expect(rejected.stdout).not.toContain('showing');
    // exactly a full page, and nothing more: nothing to say
    expectSuccess(short);
    expect(short.stdout.match(/^│ RP-\d+ /gm)).toHaveLength(58);
    expect(short.stdout).not.toContain('showing');
    for (const result of [page, pageJson, rejected, short]) expect(result.stdout).not.toMatch(PERSONAL);
  });

  it('test-row of an invalid row prints its report and exits 1; requeue --keys refuses, requeuing nothing, when a key matches no row, naming positions, not keys', async () => {
    const [invalid, invalidJson, unmatched, empty] = await Promise.all([
      cli(['test-row', 'rep-orders', '--key', 'RP-005']),
      cli(['test-row', 'rep-orders', '--key', 'RP-010', '--json']),
      cli(['requeue', 'rep-orders', '--status', 'rejected', '--keys', 'RP-005,nobody@nowhere.example,RP-001']),
      cli(['requeue', 'rep-orders', '--status', 'rejected', '--keys', ',']),
    ]);
    expectRefusal(invalid, /^error: row RP-005 of rep-orders is not valid: a run would reject it, not send it$/);
    expect(invalid.stdout).toMatch(/^row +RP-005 of rep-orders$/m);
    expect(invalid.stdout).toMatch(/^valid +no: .*consumerEmail/m);
    expectRefusal(invalidJson, /^error: row RP-010 of rep-orders is not valid/);
    expect(JSON.parse(invalidJson.stdout)).toMatchObject({ rowKey: 'RP-010', valid: false, payload: null });

    // RP-001 was sent, the second key is nobody's: both named by position only
    expectRefusal(unmatched, /^error: 2 of the 3 key\(s\) given match no rejected row of rep-orders \(keys #2 and #3 of --keys\): nothing was requeued; `rows rep-orders --key …` shows a row's status$/);
    expect(unmatched.stdout).toBe('');
    expectRefusal(empty, /^error: --keys names no key/);
    for (const result of [invalid, invalidJson, unmatched, empty]) expect(result.stdout + result.stderr).not.toMatch(PERSONAL);
    expect(await statuses('rep-orders')).toMatchObject({ 'RP-001': 'sent', 'RP-005': 'rejected', 'RP-010': 'rejected' });

    const requeued = await cli(['requeue', 'rep-orders', '--status', 'rejected', '--keys', 'RP-005,RP-010']);
    expectSuccess(requeued);
    expect(requeued.stdout).toBe('requeued 2 rejected row(s) of rep-orders: the next run reads and rebuilds them\n');
    expect(await statuses('rep-orders')).toMatchObject({ 'RP-005': 'new', 'RP-010': 'new' });
  });

  it("runs and show name a run's warnings, in full below the table; its JSON carries them", async () => {
    const summary = await runToEnd(ctx, 'rep-warn');
    expect(summary).toMatchObject({ status: 'succeeded', sent: 3, nullKeys: 1, duplicateKeys: 1 });
    expect(summary.warnings).toHaveLength(2);
    const [runsText, runsJson, show] = await Promise.all([cli(['runs', 'rep-warn']), cli(['runs', 'rep-warn', '--json']), cli(['show', 'rep-warn'])]);
    expectSuccess(runsText);
    expect(runsText.stdout).toMatch(new RegExp(`^│ ${summary.runId} +│ rep-warn +│ succeeded +│ [^│]+│ \\d+\\.\\ds +│ 2 warnings +│ full, 5 rows +│ 3 new → 3 sent, 0 rejected, 0 failed +│ +│$`, 'm'));
    const below = `Warnings\n${summary.warnings.map((warning) => `  run ${summary.runId}: ${warning}\n`).join('')}`;
    expect(runsText.stdout.endsWith(`┘\n${below}`), transcript(runsText)).toBe(true);
    expect(runsText.stdout).toMatch(/no primary key value/);
    expect(runsText.stdout).toMatch(/repeat a key/);
    expect(json<{ warnings: string[] }[]>(runsJson)[0]?.warnings).toEqual(summary.warnings);
    expectSuccess(show);
    expect(show.stdout.endsWith(`┘\n${below}`), transcript(show)).toBe(true);
    for (const result of [runsText, runsJson, show]) expect(result.stdout).not.toMatch(PERSONAL);
  });
});

describe('configuration as apply and validate read it: paths, JSON, keys, sources, cron, prune, and schedules changed in Temporal', () => {
  let ctx: TestContext;
  let dir: string;
  let reader: string;
  const scheduled = ['cfg-orders', 'cfg-paused', 'cfg-p1', 'cfg-p2', 'cfg-p3', 'cfg-p4'];
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

  const cli = (args: string[]): Promise<CliResult> => runCli(args, plainEnvFor(ctx));
  /** A file in the test's folder: JSON of `content`, or the text itself. */
  const file = async (name: string, content: unknown): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
    return path;
  };
  const destination = serviceDestination('cfg-dest', { rateLimit: FAST_RATE_LIMIT });
  const activation = (id: string, extra: Record<string, unknown> = {}) => orderActivation(id, 'cfg-dest', { kind: 'table', schema: 'shop', name: 'cfg_orders' }, extra);
  const stored = async (id: string) => (await ctx.db.selectFrom('app.activations').select('id').where('id', '=', id).where('deleted_at', 'is', null).execute()).length;

  beforeAll(async () => {
    ctx = await createTestContext('cli-config', { rateLimit: null });
    dir = await mkdtemp(join(tmpdir(), 'cli-config-'));
    reader = decodeURIComponent(new URL(ctx.readerUrl).username);
    await createOrdersTable(ctx, 'cfg_orders', [segmentRow('CF', 1)]);
    // A schema the reader role was granted nothing on.
    await ctx.warehouseAdmin.schema.createSchema('locked').execute();
    await ctx.warehouseAdmin.schema.withSchema('locked').createTable('cfg_orders').addColumn('order_id', 'text').addColumn('customer_name', 'text').addColumn('customer_email', 'text').execute();
    expectSuccess(await cli(['apply', await file('seed.json', { destinations: [destination], activations: [activation('cfg-orders')] })]));
  });

  afterAll(async () => {
    killCliProcesses();
    await Promise.all(scheduled.map((id) => deleteSchedule(ctx.temporal, id).catch(() => false)));
    await ctx.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a path holding no configuration file, saying what it skipped and why; apply --prune of it deletes nothing', async () => {
    const empty = await mkdtemp(join(dir, 'empty-'));
    const yaml = await mkdtemp(join(dir, 'yaml-'));
    await writeFile(join(yaml, 'orders.yaml'), 'id: cfg-orders\n');
    await writeFile(join(yaml, 'orders.json.bak'), '{}');
    const [validateEmpty, pruneEmpty, pruneYaml, yamlFile] = await Promise.all([
      cli(['validate', empty]),
      cli(['apply', empty, '--prune']),
      cli(['apply', yaml, '--prune', '--yes']),
      cli(['apply', join(yaml, 'orders.yaml')]),
    ]);
    for (const refused of [validateEmpty, pruneEmpty]) {
      expectRefusal(refused, new RegExp(`^error: ${escape(empty)}: no configuration file in this folder \\(only \\.json files are read; the folder is empty\\)$`));
      expect(refused.stdout).toBe('');
    }
    expectRefusal(
      pruneYaml,
      new RegExp(
        `^error: ${escape(yaml)}: no configuration file in this folder \\(only \\.json files are read; skipped: ` +
          `${escape(join(yaml, 'orders.json.bak'))} \\(not a \\.json file\\), ${escape(join(yaml, 'orders.yaml'))} \\(YAML is not read: write it as JSON\\)\\)$`,
      ),
    );
    expectRefusal(yamlFile, /YAML is not read; write the configuration as JSON \(a \.json file\)$/);
    expect(await stored('cfg-orders')).toBe(1);
    expect(await describeSchedule(ctx.temporal, 'cfg-orders')).toMatchObject({ paused: false });
  });

  it('locates broken JSON by line and column, suggests the closest key, table and schema, and prints the grants a locked schema needs, naming the reader role', async () => {
    const broken = await file('broken.json', '{\n  "id": "cfg-orders",\n  "destinationId": "cfg-dest"\n  "schedule": { "every": "1d" }\n}\n');
    const keys = await file('keys.json', { destinations: [destination], activations: [{ ...activation('cfg-orders'), shedule: { every: '1d' }, concurency: 2 }] });
    const sources = await file('sources.json', {
      destinations: [destination],
      activations: [
        activation('cfg-table', { source: { kind: 'table', schema: 'shop', name: 'cfg_ordrs' } }),
        activation('cfg-schema', { source: { kind: 'table', schema: 'shpo', name: 'cfg_orders' } }),
        activation('cfg-locked', { source: { kind: 'table', schema: 'locked', name: 'cfg_orders' } }),
      ],
    });
    const [brokenResult, keysResult, sourcesResult, readerSql] = await Promise.all([
      cli(['validate', broken]),
      cli(['validate', keys]),
      cli(['validate', sources]),
      cli(['reader-sql', sources, '--role', reader]),
    ]);

    expect(brokenResult.code, transcript(brokenResult)).toBe(1);
    expect(brokenResult.stdout).toBe('');
    expect(brokenResult.stderr).toBe(
      `error: ${broken}:4:3: not valid JSON: '"' where ',' or '}' was expected after a property value (a missing comma?)\n` + '    "schedule": { "every": "1d" }\n' + '    ^\n',
    );

    expectRefusal(keysResult, /^error: 2 problem\(s\)$/);
    expect(keysResult.stdout).toMatch(new RegExp(`^✗ ${escape(keys)}: activation 'cfg-orders': activation\\.shedule: unknown key 'shedule'; did you mean 'schedule'\\? allowed keys: `, 'm'));
    expect(keysResult.stdout).toMatch(/activation\.concurency: unknown key 'concurency'; did you mean 'concurrency'\? /);

    expectRefusal(sourcesResult, /^error: 3 problem\(s\)$/);
    const problem = (id: string) => sourcesResult.stdout.split('\n').find((line) => line.startsWith(`✗ ${sources}: activation '${id}': source: `)) ?? transcript(sourcesResult);
    expect(problem('cfg-table')).toMatch(/relation "shop\.cfg_ordrs" does not exist \(SQLSTATE 42P01 undefined_table\); did you mean 'cfg_orders'\?$/);
    expect(problem('cfg-schema')).toMatch(/; did you mean schema 'shop'\?$/);
    const role = `"${reader}"`;
    expect(problem('cfg-locked')).toContain(`the reader role ${role} may not read the segment: permission denied for schema locked (SQLSTATE 42501 insufficient_privilege)`);
    expect(problem('cfg-locked')).toContain(`as an administrator of the warehouse, run: GRANT USAGE ON SCHEMA "locked" TO ${role}; GRANT SELECT ON "locked"."cfg_orders" TO ${role};`);
    expect(problem('cfg-locked')).toContain(`(\`npm run cli -- reader-sql ${sources} --role ${reader}\` prints every grant)`);
    expect(sourcesResult.stdout).not.toMatch(/@shop\.example\.com|Buyer CF/);

    // The command it points to prints those grants for the file, which was never applied.
    expectSuccess(readerSql);
    expect(readerSql.stdout).toContain(`GRANT USAGE ON SCHEMA "locked" TO ${role};`);
    expect(readerSql.stdout).toContain(`GRANT SELECT ON "locked"."cfg_orders" TO ${role};`);
  });

  it('refuses a cron Temporal would not take (L, H) at validate, and apply says so without an unexpected error', async () => {
    const crons = await file('crons.json', {
      destinations: [destination],
      activations: [activation('cfg-last', { schedule: { cron: '0 9 L * *' } }), activation('cfg-hashed', { schedule: { cron: 'H 9 * * *' } })],
    });
    const [validated, applied] = await Promise.all([cli(['validate', crons]), cli(['apply', crons])]);
    expectRefusal(validated, /^error: 2 problem\(s\)$/);
    expect(validated.stdout).toContain(`✗ ${crons}: activation 'cfg-last': activation.schedule.cron: is not a valid cron expression for a Temporal schedule: day of month 'L': 'L' (last day or weekday) is not supported\n`);
    expect(validated.stdout).toContain(`✗ ${crons}: activation 'cfg-hashed': activation.schedule.cron: is not a valid cron expression for a Temporal schedule: minute 'H': 'H' (a hashed value) is not supported: choose a fixed value\n`);
    expectRefusal(applied, /^error: 2 problem\(s\); nothing was saved$/);
    expect(applied.stdout).toBe(validated.stdout);
    expect(await stored('cfg-last')).toBe(0);
    expect(await describeSchedule(ctx.temporal, 'cfg-last')).toBeUndefined();
  });

  it('apply --prune deleting more than 3 entries shows the plan and stops without --yes, naming how many and which; with --yes it deletes them', async () => {
    const four = await file('four.json', { destinations: [destination], activations: ['cfg-p1', 'cfg-p2', 'cfg-p3', 'cfg-p4'].map((id) => activation(id)) });
    expectSuccess(await cli(['apply', four]));
    // The folder's one file has an upper-case extension: still read.
    const upper = await mkdtemp(join(dir, 'upper-'));
    await writeFile(join(upper, 'CFG.JSON'), JSON.stringify({ destinations: [destination], activations: [activation('cfg-orders')] }));

    const [refused, help] = await Promise.all([cli(['apply', upper, '--prune']), cli(['apply', '--help'])]);
    expectRefusal(
      refused,
      new RegExp(
        `^error: --prune would delete 4 activation\\(s\\) \\(cfg-p1, cfg-p2, cfg-p3, cfg-p4\\) with their schedules, which the files named do not hold; nothing was changed\\. Check the paths \\(${escape(upper)}\\), then add --yes to delete them$`,
      ),
    );
    expect(refused.stdout.split('\n')).toEqual([
      'Plan:',
      '  = destination cfg-dest (unchanged)',
      '  = activation cfg-orders (unchanged)',
      '  - activation cfg-p1 (delete)',
      '  - activation cfg-p2 (delete)',
      '  - activation cfg-p3 (delete)',
      '  - activation cfg-p4 (delete)',
      '',
    ]);
    expect(await stored('cfg-p4')).toBe(1);
    expect(await describeSchedule(ctx.temporal, 'cfg-p4')).toMatchObject({ paused: false });
    expectSuccess(help);
    expect(help.stdout).toMatch(/^ {2}--yes +confirm a --prune that deletes more than 3 destinations and\s+activations \(without it, the plan is shown and nothing changes\)$/m);

    const confirmed = await cli(['apply', upper, '--prune', '--yes']);
    expectSuccess(confirmed);
    expect(confirmed.stdout).toMatch(/ {2}- activation cfg-p4 \(delete\)\n✓ applied: 4 change\(s\), schedules in sync\n$/);
    for (const id of ['cfg-p1', 'cfg-p2', 'cfg-p3', 'cfg-p4']) {
      expect(await stored(id)).toBe(0);
      expect(await describeSchedule(ctx.temporal, id)).toBeUndefined();
    }
    expect(await stored('cfg-orders')).toBe(1);
  });

  it("pause --reason shows the operator's reason where the configuration pauses too; apply shows a schedule resumed or paused in Temporal as a change, and says why it paused it again", async () => {
    const both = await file('both.json', { destinations: [destination], activations: [activation('cfg-orders'), activation('cfg-paused', { schedule: { every: '1d', paused: true } })] });
    expectSuccess(await cli(['apply', both]));
    expect(await describeSchedule(ctx.temporal, 'cfg-paused')).toMatchObject({ paused: true, note: 'paused by configuration (schedule.paused)' });

    const paused = await cli(['pause', 'cfg-paused', '--reason', 'catalogue upload pending']);
    expectSuccess(paused);
    expect(paused.stdout).toBe('paused cfg-paused: catalogue upload pending\n  its configuration pauses it too (schedule.paused): `resume` alone will not run it\n');
    expect(await describeSchedule(ctx.temporal, 'cfg-paused')).toMatchObject({ paused: true, note: 'catalogue upload pending' });
    const [show, list, unchanged] = await Promise.all([cli(['show', 'cfg-paused']), cli(['list']), cli(['apply', both])]);
    expectSuccess(show);
    expect(show.stdout).toMatch(/^schedule +every 1d, paused: catalogue upload pending$/m);
    expectSuccess(list);
    expect(list.stdout).toMatch(/^│ cfg-paused +│ cfg-dest +│ table shop\.cfg_orders +│ every 1d +│ paused: catalogue upload pending +│/m);
    expectSuccess(unchanged);
    expect(unchanged.stdout).toMatch(/✓ applied: 0 change\(s\), schedules in sync\n$/);
    expect(await describeSchedule(ctx.temporal, 'cfg-paused')).toMatchObject({ paused: true, note: 'catalogue upload pending' });

    const resumed = await cli(['resume', 'cfg-paused']);
    expectRefusal(resumed, /^error: cfg-paused stays paused by its configuration \(schedule\.paused\); change it and apply$/);
    expect(await describeSchedule(ctx.temporal, 'cfg-paused')).toMatchObject({ paused: true, note: 'paused by configuration (schedule.paused)' });

    // Someone resumes the configuration-paused schedule in the Temporal UI, and pauses the other one.
    await ctx.temporal.schedule.getHandle(scheduleIdFor('cfg-paused')).unpause('resumed from the UI');
    await ctx.temporal.schedule.getHandle(scheduleIdFor('cfg-orders')).pause('looking into it');
    const drifted = await cli(['apply', both]);
    expectSuccess(drifted);
    expect(drifted.stdout.split('\n')).toEqual([
      'Plan:',
      '  = destination cfg-dest (unchanged)',
      '  = activation cfg-orders (unchanged)',
      '  = activation cfg-paused (unchanged)',
      "  ~ schedule cfg-orders: paused in Temporal ('looking into it'), not by its configuration nor by `cli pause`: will be resumed",
      '  ~ schedule cfg-paused: running in Temporal, paused by its configuration: will be paused again',
      '✓ applied: 2 change(s), schedules in sync',
      '',
    ]);
    const note =
      /^paused by configuration \(schedule\.paused\); paused again by apply at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ: it had been resumed in Temporal, but it is paused by its configuration; change the configuration and apply to resume it$/;
    expect(await describeSchedule(ctx.temporal, 'cfg-paused')).toMatchObject({ paused: true, note: expect.stringMatching(note) as string });
    expect(await describeSchedule(ctx.temporal, 'cfg-orders')).toMatchObject({ paused: false });

    // In line again: no change, and the note that says why stays.
    const again = await cli(['apply', both, '--json']);
    expect(json<{ applied: boolean; plan: { kind: string }[] }>(again)).toMatchObject({ applied: true });
    expect(json<{ plan: { kind: string }[] }>(again).plan.map((item) => item.kind)).toEqual(['destination', 'activation', 'activation']);
    expect(await describeSchedule(ctx.temporal, 'cfg-paused')).toMatchObject({ paused: true, note: expect.stringMatching(note) as string });
  });
});
