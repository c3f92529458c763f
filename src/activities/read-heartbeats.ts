import { Context } from '@temporalio/activity';
import type { ReadProgress } from '../source/types.ts';
import { HEARTBEAT_EVERY_MS } from '../run/policies.ts';

/** How long past its statement timeout a read may go without a sign of life before heartbeats stop. */
const SILENCE_MARGIN_MS = 30_000;

/**
 * Heartbeats for an activity that reads the warehouse. They carry what the read has moved, and
 * stop when a statement has waited on the warehouse longer than its statement timeout allows: the
 * read's own deadline should have ended it by then, and without heartbeats Temporal fails the
 * attempt over to another worker, whatever is stuck in this one.
 */
export function readHeartbeats(statementTimeoutMs: number): { onProgress: (progress: ReadProgress) => void; stop: () => void } {
  const activity = Context.current();
  let latest: ReadProgress | undefined;
  const allowedSilenceMs = statementTimeoutMs + SILENCE_MARGIN_MS;
  const timer = setInterval(() => {
    if (latest?.waiting && Date.now() - latest.lastActivityAt > allowedSilenceMs) return;
    activity.heartbeat(latest ? { bytesRead: latest.bytes } : undefined);
  }, HEARTBEAT_EVERY_MS);
  return {
    onProgress(progress) {
      latest = progress;
    },
    stop() {
      clearInterval(timer);
    },
  };
}
