export { createTrustpilotClient, DEFAULT_TIMEOUT_MS } from './client.ts';
export {
  classifyResponse,
  classifyTransportFailure,
  isTrustpilotError,
  parseRetryAfter,
  TrustpilotError,
  type ClassifyContext,
  type TrustpilotErrorDetail,
  type TrustpilotErrorKind,
} from './errors.ts';
export { redact, redactAndTruncate } from './redact.ts';
export { sharedTokenCache, TokenCache, tokenCacheKey, type AccessToken, type TokenCacheOptions, type TokenSource } from './tokens.ts';
export type {
  CallOptions,
  DeleteInvitationDataRequest,
  InvitationLinkRequest,
  InvitationTemplate,
  TrustpilotClient,
  TrustpilotClientOptions,
  TrustpilotCredentials,
} from './types.ts';
