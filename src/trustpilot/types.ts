import type { InvitationRequest } from '../domain/invitation-request.ts';

export type TrustpilotCredentials =
  | { grant: 'client_credentials'; apiKey: string; apiSecret: string; businessUserId: string }
  | { grant: 'password'; apiKey: string; apiSecret: string; username: string; password: string; businessUserId?: string };

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

/** Extra knowledge the pure classifier cannot infer from the response alone. */
export interface ClassifyContext {
  /** Human wording for messages, e.g. "the invitation", "the template list". */
  subject?: string;
  /** The response came from the OAuth token/refresh endpoint rather than an API call. */
  tokenEndpoint?: boolean;
  /** The call creates something that Trustpilot may have done despite the error (no idempotency key). */
  mayHaveSideEffects?: boolean;
  /**
   * Every string the call sent: each string leaf of the request body, the credentials and the
   * tokens. A piece of server text that quotes any of them is withheld whole (see withhold.ts
   * for what else is withheld).
   */
  sentValues?: readonly (string | undefined)[];
  /** The business unit the call was for; configuration, so it may be named in messages. */
  businessUnitId?: string;
  /** The configured x-business-user-id, if any; configuration, so it may be named in messages. */
  businessUserId?: string;
  /** Clock for HTTP-date Retry-After values; defaults to Date.now. */
  now?: () => number;
}
