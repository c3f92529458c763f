import { condition, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { RunState, SendOutcome } from '../run/types.ts';
import { SENDING } from './activity-options.ts';
import { stopOf, type Stop } from './run-stop.ts';

const sending = proxyActivities<Activities>(SENDING);

/**
 * Sends ledger entries with bounded concurrency; stops dispatching once a send says the run cannot
 * go on. Every promise created in workflow code costs a stack-trace capture (the SDK records them
 * for the UI's stack trace view), and a run creates them per row: so a send is one activity promise
 * and one `then`, and the loop waits only when every slot is taken.
 */
export class Dispatcher {
  inFlight = 0;
  stop: Stop | undefined;

  constructor(
    private readonly run: RunState,
    private readonly onChange: () => void,
  ) {}

  get full(): boolean {
    return this.inFlight >= this.run.concurrency && this.stop === undefined;
  }

  /** Resolves when a slot is free or the run has stopped; call only when `full`. */
  slot(): Promise<void> {
    return condition(() => !this.full);
  }

  drained(): Promise<void> {
    return condition(() => this.inFlight === 0);
  }

  dispatch(entryId: number): void {
    this.inFlight++;
    void sending.sendInvitation({ runId: this.run.runId, entryId }).then(this.settled, this.failed);
  }

  private readonly settled = (outcome: SendOutcome): void => {
    if (outcome === 'sent') this.run.counts.sent++;
    else if (outcome === 'rejected') this.run.counts.rejected++;
    this.release();
  };

  /** Recorded on the ledger row as 'failed'; only a run-wide reason stops the others. */
  private readonly failed = (error: unknown): void => {
    this.run.counts.failed++;
    const stop = stopOf(error);
    if (stop.kind === 'misconfigured' || stop.kind === 'unavailable') this.stop ??= stop;
    this.release();
  };

  private release(): void {
    this.inFlight--;
    this.onChange();
  }
}
