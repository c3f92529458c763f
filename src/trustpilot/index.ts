export { createTrustpilotClient, type TrustpilotClientOptions } from './client.ts';
export { classifyResponse, parseRetryAfter } from './classify.ts';
export { isTrustpilotError, TrustpilotError, type TrustpilotErrorDetail, type TrustpilotErrorKind } from './error.ts';
export { nodeTransport, type HttpTransport, type ResponseHeaders, type TransportRequest, type TransportResponse } from './http.ts';
export { WITHHELD } from './withhold.ts';
export { classifyTransportFailure } from './transport-errors.ts';
export { TokenCache, tokenCacheKey, type AccessToken, type TokenCacheOptions, type TokenSource } from './tokens.ts';
export type {
  CallOptions,
  ClassifyContext,
  DeleteInvitationDataRequest,
  InvitationTemplate,
  TrustpilotClient,
  TrustpilotCredentials,
} from './types.ts';
export { healthOf, looksDown, mayHaveBeenAccepted } from './call-outcome.ts';
