import { Context } from '@temporalio/activity';
import type { MetricCounter, MetricHistogram, MetricMeter } from '@temporalio/common';

/**
 * The app's own metrics, exported on the worker's Prometheus endpoint beside the SDK's
 * (task latencies, slots, polls). Tagged by activation id only: no row value ever becomes a label.
 * Instruments are created once per meter: creating them per call would allocate in the SDK's core
 * for every invitation.
 */

export type InvitationOutcome = 'sent' | 'rejected' | 'failed' | 'in_doubt';

interface Instruments {
  invitations: MetricCounter;
  pacingWait: MetricHistogram;
  runDuration: MetricHistogram;
  runs: MetricCounter;
}

const instrumentsByMeter = new WeakMap<MetricMeter, Instruments>();

function instruments(): Instruments {
  const meter = Context.current().metricMeter;
  let found = instrumentsByMeter.get(meter);
  if (!found) {
    found = {
      invitations: meter.createCounter('trustpilot_invitations', 'invitations', 'Invitation calls by outcome'),
      pacingWait: meter.createHistogram('trustpilot_pacing_wait', 'int', 'ms', 'How long a call waited for its slot under the shared rate limit'),
      runDuration: meter.createHistogram('trustpilot_run_duration', 'float', 's', 'Duration of finished runs'),
      runs: meter.createCounter('trustpilot_runs', 'runs', 'Finished runs by status'),
    };
    instrumentsByMeter.set(meter, found);
  }
  return found;
}

export function countInvitation(activationId: string, outcome: InvitationOutcome): void {
  instruments().invitations.add(1, { activation: activationId, outcome });
}

export function recordPacingWait(activationId: string, waitMs: number): void {
  instruments().pacingWait.record(Math.max(0, Math.round(waitMs)), { activation: activationId });
}

export function recordRunFinished(activationId: string, status: string, seconds: number): void {
  const { runDuration, runs } = instruments();
  runDuration.record(Math.max(0, seconds), { activation: activationId, status });
  runs.add(1, { activation: activationId, status });
}
