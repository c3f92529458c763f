import { metricMeter } from '@temporalio/activity';

/**
 * The app's own metrics, exported on the worker's Prometheus endpoint beside the SDK's
 * (task latencies, slots, polls). Tagged by activation id only: no row value ever becomes a label.
 */

export type InvitationOutcome = 'sent' | 'rejected' | 'failed' | 'in_doubt';

export function countInvitation(activationId: string, outcome: InvitationOutcome): void {
  metricMeter.createCounter('trustpilot_invitations', 'invitations', 'Invitation calls by outcome').add(1, { activation: activationId, outcome });
}

export function recordPacingWait(activationId: string, waitMs: number): void {
  metricMeter
    .createHistogram('trustpilot_pacing_wait', 'int', 'ms', 'How long a call waited for its slot under the shared rate limit')
    .record(Math.max(0, Math.round(waitMs)), { activation: activationId });
}

export function recordRunFinished(activationId: string, status: string, seconds: number): void {
  metricMeter.createHistogram('trustpilot_run_duration', 'float', 's', 'Duration of finished runs').record(Math.max(0, seconds), { activation: activationId, status });
  metricMeter.createCounter('trustpilot_runs', 'runs', 'Finished runs by status').add(1, { activation: activationId, status });
}
