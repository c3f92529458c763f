export { createTrustpilotClient } from './client.ts';
export {
  classifyResponse,
  isTrustpilotError,
  parseRetryAfter,
  TrustpilotError,
  type ClassifyContext,
  type TrustpilotErrorDetail,
  type TrustpilotErrorKind,
} from './errors.ts';
export { nodeTransport, type HttpTransport, type ResponseHeaders, type TransportRequest, type TransportResponse } from './http.ts';
export { WITHHELD } from './withhold.ts';
export { classifyTransportFailure } from './transport-errors.ts';
export { TokenCache, tokenCacheKey, type AccessToken, type TokenCacheOptions, type TokenSource } from './tokens.ts';
export type {
  CallOptions,
  DeleteInvitationDataRequest,
  InvitationTemplate,
  TrustpilotClient,
  TrustpilotClientOptions,
  TrustpilotCredentials,
} from './types.ts';
export { healthOf, looksDown, mayHaveBeenAccepted } from './call-outcome.ts';
