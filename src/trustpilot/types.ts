import type { InvitationRequest } from '../domain/invitation-request.ts';
import type { HttpTransport } from './http.ts';
import type { TokenCache } from './tokens.ts';

export type TrustpilotCredentials =
  | { grant: 'client_credentials'; apiKey: string; apiSecret: string; businessUserId: string }
  | { grant: 'password'; apiKey: string; apiSecret: string; username: string; password: string; businessUserId?: string };

export interface TrustpilotClientOptions {
  /** OAuth host, e.g. https://api.trustpilot.com (a path prefix is allowed). */
  apiUrl: string;
  /** Invitations host, e.g. https://invitations-api.trustpilot.com (a path prefix is allowed). */
  invitationsApiUrl: string;
  credentials: TrustpilotCredentials;
  /** Per HTTP call, including reading the body. Default 30 000. */
  timeoutMs?: number;
  /**
   * Renew the access token when fewer than this many seconds of its lifetime remain.
   * Default: min(10 % of the lifetime, 1 hour); a 100-hour Trustpilot token is renewed after
   * 99 hours. Always capped at half the lifetime so a short-lived token is not renewed on every call.
   */
  renewBeforeExpirySeconds?: number;
  /** Default: one process-wide cache, so every client with the same credentials shares one token. */
  tokenCache?: TokenCache;
  /** Default: node:http(s) over keep-alive connections (see nodeTransport). */
  transport?: HttpTransport;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export interface InvitationTemplate {
  id: string;
  name: string;
  isDefaultTemplate: boolean;
  locale: string;
  type: string;
}

export type DeleteInvitationDataRequest = { customerEmails: string[] } | { deleteOlderThan: string };

export interface TrustpilotClient {
  /**
   * Obtains (or reuses) the access token. Callers that pace their calls do this first, so that a
   * token request never delays a paced call into its neighbour's slot.
   */
  authenticate(options?: CallOptions): Promise<void>;
  /** Any 2xx is "accepted": Trustpilot queues the email. `id` is returned when Trustpilot sends one. */
  createInvitation(businessUnitId: string, body: InvitationRequest, options?: CallOptions): Promise<{ status: number; id?: string }>;
  listTemplates(businessUnitId: string, options?: CallOptions): Promise<InvitationTemplate[]>;
  /** Irreversible GDPR erasure. Exactly one of the two forms. */
  deleteInvitationData(businessUnitId: string, request: DeleteInvitationDataRequest, options?: CallOptions): Promise<void>;
}
