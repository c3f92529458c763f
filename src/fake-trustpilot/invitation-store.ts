/**
 * Accepted email invitations, in arrival order. The list is what a test inspects to see
 * what Trustpilot "would have mailed"; duplicates are computed on demand because they are
 * read rarely (admin, end of a test) while recording must stay cheap.
 */
import type { AcceptedInvitation, DuplicateInvitation } from './types.ts';

function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export class InvitationStore {
  private invitations: AcceptedInvitation[] = [];

  record(invitation: AcceptedInvitation): void {
    this.invitations.push(invitation);
  }

  all(): AcceptedInvitation[] {
    return this.invitations.slice();
  }

  /**
   * Same business unit, same recipient (email compared case-insensitively) and same
   * reference number more than once: the second email a real customer would receive.
   */
  duplicates(): DuplicateInvitation[] {
    const groups = new Map<string, DuplicateInvitation>();
    for (const { businessUnitId, body } of this.invitations) {
      const key = `${businessUnitId}\u0000${normaliseEmail(body.consumerEmail)}\u0000${body.referenceNumber}`;
      const group = groups.get(key);
      if (group === undefined) groups.set(key, { businessUnitId, consumerEmail: body.consumerEmail, referenceNumber: body.referenceNumber, count: 1 });
      else group.count += 1;
    }
    return [...groups.values()].filter((group) => group.count > 1);
  }

  /** GDPR erasure by recipient; returns how many invitations were forgotten. */
  deleteByEmails(businessUnitId: string, emails: readonly string[]): number {
    const doomed = new Set(emails.map(normaliseEmail));
    return this.removeWhere((invitation) => invitation.businessUnitId === businessUnitId && doomed.has(normaliseEmail(invitation.body.consumerEmail)));
  }

  /** GDPR erasure by age; returns how many invitations were forgotten. */
  deleteOlderThan(businessUnitId: string, cutoffEpochMs: number): number {
    return this.removeWhere((invitation) => invitation.businessUnitId === businessUnitId && Date.parse(invitation.receivedAt) < cutoffEpochMs);
  }

  clear(): void {
    this.invitations = [];
  }

  private removeWhere(matches: (invitation: AcceptedInvitation) => boolean): number {
    const before = this.invitations.length;
    this.invitations = this.invitations.filter((invitation) => !matches(invitation));
    return before - this.invitations.length;
  }
}
