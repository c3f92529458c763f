import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_ENTRIES_PER_FILE, entriesOf, readConfigFiles } from '../../src/cli/config-files.ts';
import { locateJsonError } from '../../src/cli/json-errors.ts';
import { activationInput } from '../fixtures.ts';

const activation = (id: string) => activationInput({ id });

let dir: string;
const path = (...parts: string[]) => join(dir, ...parts);
const write = async (name: string, content: string) => {
  await writeFile(path(name), content);
  return path(name);
};

/** The message readConfigFiles refuses with. */
async function refusal(paths: string[]): Promise<string> {
  try {
    await readConfigFiles(paths);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  throw new Error(`expected ${paths.join(', ')} to be refused`);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'config-files-'));
  for (const folder of ['empty', 'yaml', 'mixed', 'upper', 'nested']) await mkdir(path(folder));
  await write('yaml/orders.yaml', 'id: orders\n');
  await write('yaml/orders.yml', 'id: orders\n');
  await write('yaml/notes.txt', 'see the wiki\n');
  await write('mixed/a.json', JSON.stringify(activation('a')));
  await write('mixed/b.yaml', 'id: b\n');
  await write('upper/ORDERS.JSON', JSON.stringify(activation('upper')));
  await mkdir(path('nested/inner'));
  await write('nested/inner/c.json', JSON.stringify(activation('c')));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('paths that hold no configuration', () => {
  it('refuses an empty folder, naming it', async () => {
    expect(await refusal([path('empty')])).toBe(`${path('empty')}: no configuration file in this folder (only .json files are read; the folder is empty)`);
  });

  it('refuses a folder of YAML and other files, saying which were skipped and why', async () => {
    const message = await refusal([path('yaml')]);
    expect(message).toMatch(new RegExp(`^${path('yaml')}: no configuration file in this folder`));
    expect(message).toContain(`${path('yaml', 'orders.yaml')} (YAML is not read: write it as JSON)`);
    expect(message).toContain(`${path('yaml', 'orders.yml')} (YAML is not read: write it as JSON)`);
    expect(message).toContain(`${path('yaml', 'notes.txt')} (not a .json file)`);
  });

  it('refuses a folder whose only JSON is in a sub-folder, which is not read', async () => {
    expect(await refusal([path('nested')])).toContain(`${path('nested', 'inner')} (a folder: folders inside folders are not read)`);
  });

  it('refuses a YAML file named on its own', async () => {
    expect(await refusal([path('yaml', 'orders.yaml')])).toBe(`${path('yaml', 'orders.yaml')}: YAML is not read; write the configuration as JSON (a .json file)`);
  });

  it('refuses the whole command when one of several paths holds nothing', async () => {
    expect(await refusal([path('mixed'), path('empty')])).toContain(path('empty'));
  });

  it('reads .JSON in any case, and reports the files of a folder it skipped', async () => {
    const upper = await readConfigFiles([path('upper')]);
    expect(upper.entries.map((entry) => entry.id)).toEqual(['upper']);
    const mixed = await readConfigFiles([path('mixed')]);
    expect(mixed.entries.map((entry) => entry.id)).toEqual(['a']);
    expect(mixed.skipped).toEqual([{ file: path('mixed', 'b.yaml'), reason: 'YAML is not read: write it as JSON' }]);
  });
});

describe('file-level keys', () => {
  it("refuses a misspelt list, which would otherwise be read as nothing (and pruned)", () => {
    expect(() => entriesOf({ activations: [], destination: [] }, 'f.json')).toThrow("f.json: unknown key 'destination'; did you mean 'destinations'?");
    expect(() => entriesOf({ activation: [activation('a')] }, 'f.json')).toThrow("f.json: unknown key 'activation'; did you mean 'activations'?");
  });

  it('still reads a single destination or activation', () => {
    expect(entriesOf(activation('a'), 'f.json').map((entry) => entry.kind)).toEqual(['activation']);
    expect(entriesOf({ id: 'acme', businessUnitId: 'bu', invitationType: 'service' }, 'f.json').map((entry) => entry.kind)).toEqual(['destination']);
  });
});

describe('large files', () => {
  it(`refuses a file of 400,000 entries with its bound (at most ${MAX_ENTRIES_PER_FILE} entries per file), not a RangeError`, async () => {
    const file = await write('huge.json', `{"activations":[${Array.from({ length: 400_000 }, () => '{}').join(',')}]}`);
    expect(await refusal([file])).toBe(
      `${file}: 400000 entries; a file holds at most ${MAX_ENTRIES_PER_FILE} entries (destinations and activations): split it into several files in a folder`,
    );
  });

  it('reads a file of exactly the bound, and a folder of several such files', async () => {
    await mkdir(path('many'));
    const content = JSON.stringify({ activations: Array.from({ length: MAX_ENTRIES_PER_FILE }, (_, index) => ({ id: `a-${index}` })) });
    for (const name of ['one.json', 'two.json', 'three.json', 'four.json', 'five.json', 'six.json', 'seven.json']) await write(join('many', name), content);
    const { entries } = await readConfigFiles([path('many')]);
    expect(entries).toHaveLength(7 * MAX_ENTRIES_PER_FILE);
  });
});

describe('broken JSON is located by line and column', () => {
  it('names the line and column, shows the line and puts a caret under the column', async () => {
    const file = await write('missing-comma.json', '{\n  "id": "orders",\n  "destinationId": "acme"\n  "schedule": { "every": "5m" }\n}\n');
    expect(await refusal([file])).toBe(
      `${file}:4:3: not valid JSON: '"' where ',' or '}' was expected after a property value (a missing comma?)\n` +
        '    "schedule": { "every": "5m" }\n' +
        '    ^',
    );
  });

  it('points at a trailing comma, keeping tabs so the caret lines up', async () => {
    const file = await write('trailing.json', '{\n\t"id": "orders",\n}\n');
    expect(await refusal([file])).toBe(`${file}:2:16: not valid JSON: a comma before '}': JSON allows no trailing comma\n  \t"id": "orders",\n  \t              ^`);
  });

  it('says where an unterminated string starts, and reads a file with a byte order mark', async () => {
    const file = await write('unterminated.json', '{ "id": "orders }');
    expect(await refusal([file])).toMatch(new RegExp(`^${file}:1:9: not valid JSON: a string that never ends`));
    const bom = await write('bom.json', `\uFEFF${JSON.stringify(activation('bom'))}`);
    expect((await readConfigFiles([bom])).entries.map((entry) => entry.id)).toEqual(['bom']);
  });

  it('shows only the part of a long line around the column', async () => {
    const file = await write('minified.json', `{"activations":[${Array.from({ length: 40 }, (_, index) => JSON.stringify({ id: `a-${index}` })).join(',')},]}`);
    const [first, line, caret] = (await refusal([file])).split('\n');
    expect(first).toMatch(/:1:\d+: not valid JSON: a comma before '\]'/);
    expect(line?.length).toBeLessThanOrEqual(2 + 1 + 120 + 1);
    expect(line?.[(caret?.length ?? 0) - 1]).toBe(',');
  });

  it.each([
    ['{"a": 1}', undefined],
    ['[1, -2.5e3, true, false, null, "\\u00e9\\n", {}, []]', undefined],
    ['  {"nested": {"deep": [[[{"x": "y"}]]]}}  \n', undefined],
    ['', 0],
    ['{', 1],
    ['{"a" 1}', 5],
    ['{"a": 01}', 7],
    ["{'a': 1}", 1],
    ['[1 2]', 3],
    ['{"a": "b\\x"}', 8],
    ['{"a": 1} x', 9],
    ['{"a": tru}', 6],
    ['{"a": "line\nbreak"}', 11],
  ])('locates %j like JSON.parse judges it', (text, offset) => {
    const located = locateJsonError(text);
    expect(located?.offset).toBe(offset);
    if (offset === undefined) expect(() => JSON.parse(text) as unknown).not.toThrow();
    else expect(() => JSON.parse(text) as unknown).toThrow();
  });
});
