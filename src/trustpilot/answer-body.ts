/**
 * Reads the parts of an error answer's body in the shapes Trustpilot and the gateways in front of
 * it are known to send. Only the error code's shape is checked here: classify.ts passes every
 * piece through a screen (withhold.ts) before anything is kept.
 */
import type { TrustpilotErrorDetail } from './error.ts';

const MAX_DETAILS = 20;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function tryParseJson(text: string): unknown {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) return undefined;
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    return undefined;
  }
}

function firstString(record: Record<string, unknown>, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const value = record[key];
    if (typeof value === 'string' && value.trim() !== '') return value.trim();
    if (typeof value === 'number') return String(value);
  }
  return undefined;
}

const FIELD_KEYS = ['field', 'property', 'propertyName', 'path', 'name', 'key', 'parameter'] as const;
const MESSAGE_KEYS = ['message', 'error', 'errorMessage', 'description', 'reason', 'detail', 'msg'] as const;

function detailFrom(entry: unknown, fieldFromKey?: string): TrustpilotErrorDetail | undefined {
  if (typeof entry === 'string') return entry.trim() ? { ...(fieldFromKey ? { field: fieldFromKey } : {}), message: entry.trim() } : undefined;
  if (!isRecord(entry)) return undefined;
  const message = firstString(entry, MESSAGE_KEYS);
  if (!message) return undefined;
  let field = firstString(entry, FIELD_KEYS) ?? fieldFromKey;
  const memberNames = entry['memberNames'];
  if (!field && Array.isArray(memberNames) && typeof memberNames[0] === 'string') field = memberNames[0];
  return field ? { field, message } : { message };
}

/**
 * Accepts the shapes seen in the wild: `{details:[{field,message}]}`, `{errors:[...]}`,
 * ASP.NET-style `{errors:{field:[messages]}}`, plain string arrays, or a top-level array.
 */
export function parseDetails(body: unknown): TrustpilotErrorDetail[] {
  const candidates: unknown[] = [];
  if (Array.isArray(body)) candidates.push(body);
  if (isRecord(body)) {
    for (const key of ['details', 'errors', 'validationErrors', 'fieldErrors']) {
      if (key in body) candidates.push(body[key]);
    }
  }
  const details: TrustpilotErrorDetail[] = [];
  for (const candidate of candidates) {
    if (Array.isArray(candidate)) {
      for (const entry of candidate) {
        const detail = detailFrom(entry);
        if (detail) details.push(detail);
      }
    } else if (isRecord(candidate)) {
      for (const [field, value] of Object.entries(candidate)) {
        const entries: unknown[] = Array.isArray(value) ? value : [value];
        for (const entry of entries) {
          const detail = detailFrom(entry, field);
          if (detail) details.push(detail);
        }
      }
    } else if (typeof candidate === 'string' && candidate.trim()) {
      details.push({ message: candidate.trim() });
    }
    if (details.length > 0) break;
  }
  return details.slice(0, MAX_DETAILS);
}

/**
 * An error code is shown and stored as is, so it must look like one: a server that put the
 * rejected value (an email address, say) into `errorCode` would otherwise have it stored.
 */
const ERROR_CODE_SHAPE = /^[A-Za-z0-9_.:-]{1,64}$/;

function rawErrorCode(body: unknown): string | undefined {
  if (!isRecord(body)) return undefined;
  const direct = firstString(body, ['errorCode', 'errorcode', 'ErrorCode', 'code']);
  if (direct) return direct;
  const fault = body['fault'];
  if (isRecord(fault)) {
    const detail = fault['detail'];
    if (isRecord(detail)) {
      const code = firstString(detail, ['errorcode', 'errorCode']);
      if (code) return code;
    }
  }
  // OAuth-style token errors: {"error":"invalid_grant","error_description":"..."}
  if (typeof body['error'] === 'string' && /^[a-z_.]+$/i.test(body['error'])) return body['error'];
  return undefined;
}

/** The error code of a response body, or undefined when absent or not shaped like a code. */
export function parseErrorCode(body: unknown): string | undefined {
  const code = rawErrorCode(body);
  return code !== undefined && ERROR_CODE_SHAPE.test(code) ? code : undefined;
}

const CORRELATION_ID_KEYS = ['correlationId', 'correlationID', 'CorrelationId', 'correlation_id', 'traceId', 'requestId'] as const;

export function parseCorrelationId(body: unknown): string | undefined {
  return isRecord(body) ? firstString(body, CORRELATION_ID_KEYS) : undefined;
}

export function parseTopLevelMessage(body: unknown): string | undefined {
  if (!isRecord(body)) return undefined;
  // `Error` is the Apigee OAuthV2 spelling: {"ErrorCode":"invalid_client","Error":"..."}.
  const direct = firstString(body, ['message', 'error_description', 'Error', 'errorMessage', 'title', 'detail']);
  if (direct) return direct;
  const fault = body['fault'];
  if (isRecord(fault)) return firstString(fault, ['faultstring', 'message']);
  return undefined;
}
