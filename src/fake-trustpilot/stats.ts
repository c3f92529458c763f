/** Counters behind `stats()`; plain numbers so counting costs nothing on the hot path. */
import type { FakeTrustpilotStats } from './types.ts';

export class StatsRecorder {
  private requests = 0;
  private accepted = 0;
  private tokensIssued = 0;
  private dropped = 0;
  private byStatus = new Map<number, number>();

  countRequest(): void {
    this.requests += 1;
  }

  countStatus(status: number): void {
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1);
  }

  countAccepted(): void {
    this.accepted += 1;
  }

  countTokenIssued(): void {
    this.tokensIssued += 1;
  }

  countDropped(): void {
    this.dropped += 1;
  }

  snapshot(): FakeTrustpilotStats {
    const byStatus: Record<string, number> = {};
    for (const [status, count] of [...this.byStatus].sort(([a], [b]) => a - b)) byStatus[String(status)] = count;
    return { requests: this.requests, accepted: this.accepted, byStatus, tokensIssued: this.tokensIssued, dropped: this.dropped };
  }

  reset(): void {
    this.requests = 0;
    this.accepted = 0;
    this.tokensIssued = 0;
    this.dropped = 0;
    this.byStatus = new Map();
  }
}
