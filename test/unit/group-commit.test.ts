import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../src/db/group-commit.ts';

/** A statement the test finishes by hand, recording the batches it was given. */
function manualStatement() {
  const batches: number[][] = [];
  const finishers: ((fail?: Error) => void)[] = [];
  const execute = (inputs: number[]) =>
    new Promise<string[]>((resolve, reject) => {
      batches.push(inputs);
      finishers.push((fail) => (fail ? reject(fail) : resolve(inputs.map((input) => `done ${input}`))));
    });
  const finishNext = async (fail?: Error) => {
    finishers.shift()?.(fail);
    // let the group commit start its next statement
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { batches, execute, finishNext };
}

describe('group commit', () => {
  it('sends a request that arrives at a quiet moment at once, alone', async () => {
    const statement = manualStatement();
    const group = new GroupCommit(statement.execute, (input: number) => input);
    const answer = group.submit(1);
    expect(statement.batches).toEqual([[1]]);
    await statement.finishNext();
    await expect(answer).resolves.toBe('done 1');
  });

  it('sends the requests that arrived while a statement was in flight together, each getting its own answer', async () => {
    const statement = manualStatement();
    const group = new GroupCommit(statement.execute, (input: number) => input);
    const answers = [1, 2, 3, 4].map((input) => group.submit(input));
    expect(statement.batches).toEqual([[1]]);
    await statement.finishNext();
    expect(statement.batches).toEqual([[1], [2, 3, 4]]);
    await statement.finishNext();
    await expect(Promise.all(answers)).resolves.toEqual(['done 1', 'done 2', 'done 3', 'done 4']);
  });

  it('never puts two requests with one key in the same statement', async () => {
    const statement = manualStatement();
    const group = new GroupCommit(statement.execute, (input: number) => input % 10);
    const answers = [1, 2, 12, 3, 22].map((input) => group.submit(input));
    await statement.finishNext();
    expect(statement.batches[1]).toEqual([2, 3]);
    await statement.finishNext();
    expect(statement.batches[2]).toEqual([12]);
    await statement.finishNext();
    expect(statement.batches[3]).toEqual([22]);
    await statement.finishNext();
    await expect(Promise.all(answers)).resolves.toHaveLength(5);
  });

  it('fails every request of a failed statement, and goes on with the next', async () => {
    const statement = manualStatement();
    const group = new GroupCommit(statement.execute, (input: number) => input);
    const outcomes = Promise.allSettled([1, 2, 3].map((input) => group.submit(input)));
    await statement.finishNext(new Error('connection lost'));
    await statement.finishNext(new Error('still down'));
    const reasons = (await outcomes).map((outcome) => (outcome.status === 'rejected' ? String(outcome.reason) : outcome.value));
    expect(reasons).toEqual(['Error: connection lost', 'Error: still down', 'Error: still down']);
    const fourth = group.submit(4);
    await statement.finishNext();
    await expect(fourth).resolves.toBe('done 4');
  });

  it('caps a statement at its batch size', async () => {
    const statement = manualStatement();
    const group = new GroupCommit(statement.execute, (input: number) => input, 2);
    const answers = [1, 2, 3, 4, 5].map((input) => group.submit(input));
    for (let index = 0; index < 3; index++) await statement.finishNext();
    expect(statement.batches).toEqual([[1], [2, 3], [4, 5]]);
    await expect(Promise.all(answers)).resolves.toHaveLength(5);
  });

  it('fails the batch when the statement answers for fewer rows than it was given', async () => {
    const group = new GroupCommit((inputs: number[]) => Promise.resolve(inputs.slice(1)), (input: number) => input);
    const first = group.submit(1);
    await expect(first).rejects.toThrow(/answered 0 rows for 1 requests/);
  });
});
