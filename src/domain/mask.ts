import type { InvitationRequest } from './invitation-request.ts';

/**
 * An invitation as an operator may see it in a preview: names and email addresses reduced to
 * their first letters, so a payload's shape can be checked without exposing the customer.
 */

function maskWord(word: string): string {
  const first = [...word][0] ?? '';
  return word.length <= 1 ? '•' : `${first}${'•'.repeat(Math.min(6, [...word].length - 1))}`;
}

export function maskName(name: string): string {
  return name.split(/\s+/).filter(Boolean).map(maskWord).join(' ');
}

export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 0) return maskWord(email);
  const domain = email.slice(at + 1);
  const dot = domain.lastIndexOf('.');
  const host = dot > 0 ? domain.slice(0, dot) : domain;
  const tld = dot > 0 ? domain.slice(dot) : '';
  return `${maskWord(email.slice(0, at))}@${maskWord(host)}${tld}`;
}

export function maskInvitation(payload: InvitationRequest): InvitationRequest {
  return {
    ...payload,
    consumerEmail: maskEmail(payload.consumerEmail),
    consumerName: maskName(payload.consumerName),
    ...(payload.replyTo !== undefined ? { replyTo: maskEmail(payload.replyTo) } : {}),
  };
}
