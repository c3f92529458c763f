/**
 * Group commit for one kind of statement: while one statement is in flight, the requests that
 * arrive wait and then go together in the next one. Nothing waits on a timer: a request arriving
 * at a quiet moment leaves at once, alone; under load, requests share statements, so the cost per
 * request falls as the load rises.
 */
export class GroupCommit<Input, Output> {
  private pending: { input: Input; resolve: (output: Output) => void; reject: (error: unknown) => void }[] = [];
  private flushing = false;

  /**
   * @param execute runs one statement for a batch and returns one output per input, in order
   * @param keyOf requests with the same key never share a statement: a later one waits for the next
   */
  constructor(
    private readonly execute: (inputs: Input[]) => Promise<Output[]>,
    private readonly keyOf: (input: Input) => string | number,
    private readonly maxBatch = 100,
  ) {}

  submit(input: Input): Promise<Output> {
    return new Promise((resolve, reject) => {
      this.pending.push({ input, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private takeBatch(): typeof this.pending {
    const batch: typeof this.pending = [];
    const keys = new Set<string | number>();
    const left: typeof this.pending = [];
    for (const request of this.pending) {
      const key = this.keyOf(request.input);
      if (batch.length < this.maxBatch && !keys.has(key)) {
        keys.add(key);
        batch.push(request);
      } else {
        left.push(request);
      }
    }
    this.pending = left;
    return batch;
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.pending.length > 0) {
        const batch = this.takeBatch();
        try {
          const outputs = await this.execute(batch.map((request) => request.input));
          if (outputs.length !== batch.length) throw new Error(`a grouped statement answered ${outputs.length} rows for ${batch.length} requests`);
          batch.forEach((request, index) => request.resolve(outputs[index] as Output));
        } catch (error) {
          // Every request of the batch learns of the failure and handles it as its own.
          for (const request of batch) request.reject(error);
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}
