/**
 * Pattern-based scrubbing of token-shaped secrets (ours: access and refresh tokens, Basic and
 * Bearer values, JWTs, secret-named fields). Server text that may quote personal data is not
 * handled here: it is kept or withheld whole by `withhold.ts`, because no pattern can know every
 * spelling of a name.
 */

export const REDACTED = '[redacted]';
export const MAX_RESPONSE_TEXT_CHARS = 2048;

const TRUSTPILOT_TOKEN = /\btp[ar]-[A-Za-z0-9._~+/=-]+/g;
const BEARER_OR_BASIC = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;
// A JSON or form field whose name says it is secret, whatever its value looks like.
const SECRET_JSON_FIELD = /("(?:access_token|refresh_token|password|client_secret|api_?secret|apiSecret|token)"\s*:\s*")((?:[^"\\]|\\.)*)(")/gi;
const SECRET_FORM_FIELD = /\b((?:access_token|refresh_token|password|client_secret)=)[^&\s]*/gi;
// JWT-shaped strings: three base64url segments.
const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/g;

/** Replaces token-shaped secrets and secret-named field values with `[redacted]`. */
export function removeSecrets(text: string): string {
  return text
    .replace(SECRET_JSON_FIELD, `$1${REDACTED}$3`)
    .replace(SECRET_FORM_FIELD, `$1${REDACTED}`)
    .replace(BEARER_OR_BASIC, `$1 ${REDACTED}`)
    .replace(TRUSTPILOT_TOKEN, REDACTED)
    .replace(JWT, REDACTED);
}

/** Shortens `text` to `maxChars`, saying how much was cut. */
export function truncate(text: string, maxChars = MAX_RESPONSE_TEXT_CHARS): string {
  if (text.length <= maxChars) return text;
  return `${text.slice(0, maxChars)}… [truncated ${text.length - maxChars} chars]`;
}
