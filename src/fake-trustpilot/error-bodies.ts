/**
 * Error answers in the shapes Trustpilot's gateway and invitations service are known to
 * send (see the spec's "Observed bodies"); where the real shape is unknown the choice is
 * marked. All are small strings or built per call only when they carry a correlation id.
 */
import { randomUUID } from 'node:crypto';
import type { FieldProblem } from './field-checks.ts';

/** Gateway answer for a missing, unknown or expired bearer token (observed verbatim). */
export const INVALID_ACCESS_TOKEN_BODY = '{"fault":{"faultstring":"Invalid access token","detail":{"errorcode":"oauth.v2.InvalidAccessToken"}}}';

/** Invitations service answer for a missing or wrong `x-business-user-id` (observed shape). */
export function forbiddenBusinessUserBody(): object {
  return { message: 'Access to resource is forbidden', errorCode: 1014, correlationId: randomUUID() };
}

/**
 * Unknown business unit. The real code is undocumented; 1010 is this fake's choice so that
 * clients can tell it apart from 1014 (both are whole-activation configuration problems).
 */
export const UNKNOWN_BUSINESS_UNIT_ERROR_CODE = 1010;

export function unknownBusinessUnitBody(): object {
  return { message: 'Business unit not found or not accessible', errorCode: UNKNOWN_BUSINESS_UNIT_ERROR_CODE, correlationId: randomUUID() };
}

/** Gateway quota answer (Apigee-style, as Trustpilot's gateway is) for the invitations rate limit. */
export const QUOTA_VIOLATION_BODY = '{"fault":{"faultstring":"Rate limit quota violation. Quota limit exceeded.","detail":{"errorcode":"policies.ratelimit.QuotaViolation"}}}';

/** Gateway spike-arrest answer for minting tokens too often. */
export const TOKEN_SPIKE_ARREST_BODY = '{"fault":{"faultstring":"Spike arrest violation.","detail":{"errorcode":"policies.ratelimit.SpikeArrestViolation"}}}';

/** The 400 shape is undocumented; this one names every bad field (clients must parse defensively). */
export function validationErrorBody(message: string, details: FieldProblem[]): object {
  return { message, details };
}

/** OAuth errors use the gateway's OAuthV2 shape. */
export function oauthErrorBody(errorCode: string, error: string): object {
  return { ErrorCode: errorCode, Error: error };
}
