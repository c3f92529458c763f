/**
 * Keeps secrets and personal data out of anything an operator may see (error messages,
 * `responseText`, logs written by callers). Trustpilot error bodies sometimes echo the
 * submitted value back ("'jane@example.com' is not a valid email"), so every piece of
 * server text goes through here before it is stored on an error.
 */

export const REDACTED = '[redacted]';
export const MAX_RESPONSE_TEXT_CHARS = 2048;

// The lookbehinds pin each match to the start of a run of address characters: without them a
// long run with no "@" (a 60 KB HTML page) is rescanned from every position, which is quadratic.
const EMAIL = /(?<![^\s"'<>()[\]{},;:@\\/])[^\s"'<>()[\]{},;:@\\/]+@[^\s"'<>()[\]{},;:@\\/]+/g;
// Emails inside query strings or form bodies arrive percent-encoded.
const URL_ENCODED_EMAIL = /(?<![^\s"'<>&=?/])[^\s"'<>&=?/]+%40[^\s"'<>&/]+/gi;
const TRUSTPILOT_TOKEN = /\btp[ar]-[A-Za-z0-9._~+/=-]+/g;
const BEARER_OR_BASIC = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;
// A JSON or form field whose name says it is secret, whatever its value looks like.
const SECRET_JSON_FIELD = /("(?:access_token|refresh_token|password|client_secret|api_?secret|apiSecret|token)"\s*:\s*")((?:[^"\\]|\\.)*)(")/gi;
const SECRET_FORM_FIELD = /\b((?:access_token|refresh_token|password|client_secret)=)[^&\s]*/gi;
// JWT-shaped strings: three base64url segments.
const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/g;

/** Values shorter than this are not redacted by exact match: "Al" would mangle ordinary words. */
const MIN_KNOWN_VALUE_LENGTH = 2;
/** Name parts shorter than this are left alone for the same reason. */
const MIN_NAME_PART_LENGTH = 3;

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Builds the list of exact values to scrub: the secrets and personal data the client
 * itself sent. Names are also split into their parts because servers often quote only
 * the first name.
 */
export function sensitiveValuesOf(values: { secrets?: (string | undefined)[]; names?: (string | undefined)[] }): string[] {
  const result = new Set<string>();
  for (const secret of values.secrets ?? []) {
    if (secret && secret.length >= MIN_KNOWN_VALUE_LENGTH) result.add(secret);
  }
  for (const name of values.names ?? []) {
    if (!name) continue;
    const trimmed = name.trim();
    if (trimmed.length >= MIN_KNOWN_VALUE_LENGTH) result.add(trimmed);
    for (const part of trimmed.split(/\s+/)) {
      if (part.length >= MIN_NAME_PART_LENGTH) result.add(part);
    }
  }
  return [...result];
}

/**
 * Removes token-looking strings, email addresses and the given known values from `text`.
 * Known values are matched only where not glued to other letters or digits, so redacting
 * the name "Bo" does not damage the word "Bob".
 */
export function redact(text: string, knownValues: readonly string[] = []): string {
  // Patterns first: a known name like "Jane" must not break up "jane.doe@example.com" before
  // the email pattern has seen it whole.
  let result = text
    .replace(SECRET_JSON_FIELD, `$1${REDACTED}$3`)
    .replace(SECRET_FORM_FIELD, `$1${REDACTED}`)
    .replace(BEARER_OR_BASIC, `$1 ${REDACTED}`)
    .replace(TRUSTPILOT_TOKEN, REDACTED)
    .replace(JWT, REDACTED)
    .replace(URL_ENCODED_EMAIL, REDACTED)
    .replace(EMAIL, REDACTED);
  // Longest first so that "Jane Doe" is replaced before its part "Jane".
  const ordered = [...knownValues].filter((v) => v.length >= MIN_KNOWN_VALUE_LENGTH).sort((a, b) => b.length - a.length);
  for (const value of ordered) {
    const pattern = new RegExp(`(?<![\\p{L}\\p{N}])${escapeRegExp(value)}(?![\\p{L}\\p{N}])`, 'giu');
    result = result.replace(pattern, REDACTED);
    // The same value percent-encoded, as it would appear in an echoed URL or form body.
    const encoded = encodeURIComponent(value);
    if (encoded !== value) result = result.split(encoded).join(REDACTED);
  }
  return result;
}

/** Redacts first, then truncates: truncating first could cut an address in half and hide it from the patterns. */
export function redactAndTruncate(text: string, knownValues: readonly string[] = [], maxChars = MAX_RESPONSE_TEXT_CHARS): string {
  const redacted = redact(text, knownValues);
  if (redacted.length <= maxChars) return redacted;
  return `${redacted.slice(0, maxChars)}… [truncated ${redacted.length - maxChars} chars]`;
}
