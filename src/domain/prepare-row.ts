import { buildInvitation, describeRowIssues } from './invitation.ts';
import type { InvitationRequest } from './invitation-request.ts';
import type { ResolvedActivation } from './resolve.ts';

/** A new ledger row's source row, as read from the warehouse when its batch is claimed. */
export interface FetchedRow {
  fingerprint: string;
  values: Record<string, unknown>;
}

/**
 * What becomes of a row found new by a scan, once its data is read:
 * - `pending`: its invitation is built and valid, ready to send;
 * - `rejected`: its data cannot make a valid invitation (the reason names fields, never values);
 * - `vanished`: it left the segment between the scan and now; it is forgotten, so that it counts
 *   as new again should it come back.
 */
export type PreparedRow =
  | { status: 'pending'; payload: InvitationRequest; fingerprint: string }
  | { status: 'rejected'; reason: string; fingerprint: string }
  | { status: 'vanished' };

export function prepareRow(row: FetchedRow | undefined, resolved: ResolvedActivation): PreparedRow {
  if (row === undefined) return { status: 'vanished' };
  const built = buildInvitation(row.values, resolved);
  if (built.ok) return { status: 'pending', payload: built.payload, fingerprint: row.fingerprint };
  return { status: 'rejected', reason: describeRowIssues(built.issues), fingerprint: row.fingerprint };
}
