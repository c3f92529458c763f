/**
 * Decides what of Trustpilot's answer may be kept on an error, which ends up in the ledger, the
 * CLI and Temporal history. Trustpilot's answers can quote what we sent ("'Zoë' is not valid"),
 * in any encoding a server or proxy cares to use, and no list of encodings is ever complete. So
 * answers about our request are kept only where they are provably not data, by construction;
 * only server errors, which are about Trustpilot, are kept unless a sent value is found in them.
 *
 * Answers below 500 (4xx, and the odd 1xx/3xx) — `validationScreen`:
 * - A piece of free text (top-level message, each detail message) is kept when it is plain
 *   validation text: nothing but ASCII letters, digits, white space and . , : ; ! ? ' " ( ) [ ] / - _
 *   (so no @ % & + = # < > \ and nothing non-ASCII), and every word of it is one of
 *   VALIDATION_WORDS (vocabulary.ts: a fixed vocabulary of the words validation, HTTP and gateway messages use;
 *   a camelCase or snake_case word counts when each of its parts is one), a request field name
 *   of REQUEST_FIELDS or a path of them (`productReviewInvitation.productSkus[0]`; case and
 *   underscores ignored), or a number of at most 4 digits that occurs in no sent value; "e.g.",
 *   "i.e." and "(s)" are ignored. Token-shaped secrets are replaced by `[redacted]` first.
 *   Base64, hex, spaced-out letters or any other spelling of a value is made of words outside
 *   the vocabulary, so it cannot pass whatever the encoding. As a second layer the text must
 *   also quote nothing sent (below): a name that happens to be a dictionary word is caught there.
 * - Any other piece becomes a fixed marker — WITHHELD when a sent value is found in it,
 *   NOT_RECOGNISED otherwise — followed by the request field names it mentions, in their
 *   canonical spelling: `[withheld: …] (mentions consumerEmail, locale)`.
 * - A detail's field name is kept only as a path of known request fields (canonical spelling).
 * - The body (`responseText`) is kept only when every key of it and every value passes the same
 *   rules (a value may also be an error code or a UUID); otherwise it is the marker.
 *
 * Everywhere, an error code is kept only when it looks like one (`keepErrorCode`: a number, or
 * made of vocabulary words like `invalid_grant` and `oauth.v2.InvalidAccessToken`) and a
 * correlation id only when it is UUID-shaped; neither may quote a sent value.
 *
 * Answers of 500 and above — `quotingScreen`: each piece (and the body, before it is cut to size)
 * is kept, token-shaped secrets removed, unless a sent value can be found in it in any reading:
 * as received; with HTML entities, JSON escapes and percent-encoding (UTF-8 and Latin-1) decoded
 * round after round; with characters separated by single spaces or other single separators
 * joined again (`b o b @ e x a m p l e . c o m`); and with runs of base64 (standard or URL-safe,
 * with or without padding, at every alignment) and hex (upper or lower case, plain or as
 * separated pairs) decoded. Readings are folded for case, width and accents (readings.ts makes
 * the readings, sent-values.ts finds the values in them). Anything email-shaped counts as
 * quoted, sent or not. Such a piece is replaced whole by WITHHELD:
 * rewriting the quoted parts in place could only remove the spellings someone thought of.
 */
import { removeSecrets, truncate } from './redact.ts';
import { MAX_LEAF_DEPTH, type SentValues } from './sent-values.ts';
import { canonicalFieldPath, isPlainNumber, isPlainValidationText, isPlainWord, mentionedFields } from './vocabulary.ts';

// Code outside this folder checks stored text in the same folded form the screens compare in.
export { foldForMatching } from './readings.ts';

export const WITHHELD = "[withheld: Trustpilot's answer quoted request data]";
export const NOT_RECOGNISED = "[withheld: Trustpilot's answer was not a recognised validation message]";

/** Mentioned field names listed after a marker; a message naming more says little more. */
const MAX_MENTIONS = 8;

const UUID_SHAPE = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;
const NUMERIC_CODE = /^\d{1,9}$/;
const CODE_SHAPE = /^[A-Za-z0-9_.:-]{1,64}$/;

/**
 * An error code as it may be stored: a number (Trustpilot's are: 1010, 1014; it cannot carry a
 * name or an email, and checking its digits against the sent values would drop it whenever a
 * row happens to contain them), or a code-shaped string made of vocabulary words
 * (`invalid_grant`, `oauth.v2.InvalidAccessToken`) that quotes nothing sent.
 */
export function keepErrorCode(code: string | undefined, sent: SentValues): string | undefined {
  if (code === undefined) return undefined;
  if (NUMERIC_CODE.test(code)) return code;
  if (!CODE_SHAPE.test(code)) return undefined;
  const words = code.split(/[.:-]+/).filter((word) => word !== '');
  return words.length > 0 && words.every((word) => isPlainWord(word, sent)) && !sent.quotedIn(code) ? code : undefined;
}

/** A correlation id is for Trustpilot's support; kept only when UUID-shaped and not something we sent. */
export function keepCorrelationId(value: string | undefined, sent: SentValues): string | undefined {
  const trimmed = value?.trim();
  return trimmed !== undefined && UUID_SHAPE.test(trimmed) && !sent.contains(trimmed) ? trimmed : undefined;
}

function markerFor(text: string, quoted: boolean, ownField?: string): string {
  const marker = quoted ? WITHHELD : NOT_RECOGNISED;
  const mentions = mentionedFields(text).filter((name) => name !== ownField).slice(0, MAX_MENTIONS);
  return mentions.length === 0 ? marker : `${marker} (mentions ${mentions.join(', ')})`;
}

function isCodeKey(key: string): boolean {
  return /^(?:error_?code|code|status(?:_?code)?)$/i.test(key);
}

/** A parsed body (after secrets are removed) whose every key and value is provably not data. */
function isPlainBody(value: unknown, sent: SentValues, key: string, depth: number): boolean {
  if (value === null || typeof value === 'boolean') return true;
  if (typeof value === 'number') {
    const digits = String(Math.abs(value));
    return Number.isInteger(value) && (isCodeKey(key) ? NUMERIC_CODE.test(digits) : isPlainNumber(digits, sent));
  }
  if (typeof value === 'string') {
    if (NUMERIC_CODE.test(value)) return isCodeKey(key) || isPlainNumber(value, sent);
    return (
      isPlainValidationText(value, sent) ||
      UUID_SHAPE.test(value.trim()) ||
      keepErrorCode(value, sent) !== undefined ||
      canonicalFieldPath(value) !== undefined
    );
  }
  if (typeof value !== 'object' || depth > MAX_LEAF_DEPTH) return false;
  if (Array.isArray(value)) return value.every((item) => isPlainBody(item, sent, key, depth + 1));
  return Object.entries(value).every(
    ([childKey, child]) =>
      (isPlainWord(childKey, sent) || canonicalFieldPath(childKey) !== undefined) && isPlainBody(child, sent, childKey, depth + 1),
  );
}

function parsedJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

/** How each piece of one answer is kept or withheld; which screen applies depends on the status. */
export interface AnswerScreen {
  /** A message or detail text; `ownField` is the detail's (screened) field, not repeated among the mentions. */
  text(text: string, ownField?: string): string;
  /** A detail's field name, or undefined when it may not be kept. */
  field(field: string | undefined): string | undefined;
  /** The whole body, for `responseText`. */
  body(bodyText: string, maxChars?: number): string;
}

/** 4xx (and any other non-5xx) answers: only plain validation text is kept (see the header). */
export function validationScreen(sent: SentValues): AnswerScreen {
  return {
    text(text, ownField) {
      if (sent.quotedIn(text)) return markerFor(text, true, ownField);
      const cleaned = removeSecrets(text);
      return isPlainValidationText(cleaned, sent) ? cleaned : markerFor(text, false, ownField);
    },
    field(field) {
      return field === undefined ? undefined : canonicalFieldPath(field);
    },
    body(bodyText, maxChars) {
      if (sent.quotedIn(bodyText)) return WITHHELD;
      const cleaned = removeSecrets(bodyText);
      const json = parsedJson(cleaned);
      const plain = json.ok ? isPlainBody(json.value, sent, '', 0) : isPlainValidationText(cleaned, sent);
      return plain ? truncate(cleaned, maxChars) : NOT_RECOGNISED;
    },
  };
}

/** Field names are kept only when they look like a property path, never like a value. */
const FIELD_NAME_SHAPE = /^[A-Za-z0-9_.[\]-]{1,100}$/;

/**
 * One piece of server text as it may be stored: unchanged apart from token-shaped secrets,
 * or the fixed marker when it quotes anything the call sent.
 */
export function screenServerText(text: string, sent: SentValues): string {
  return sent.quotedIn(text) ? WITHHELD : removeSecrets(text);
}

/**
 * A whole response body for `responseText`. The decision is made on the full body before it
 * is shortened: a value cut in half at the limit would no longer be recognisable.
 */
export function screenResponseText(text: string, sent: SentValues, maxChars?: number): string {
  return sent.quotedIn(text) ? WITHHELD : truncate(removeSecrets(text), maxChars);
}

/** 5xx answers: kept unless they quote what was sent (see the header). */
export function quotingScreen(sent: SentValues): AnswerScreen {
  return {
    text: (text) => screenServerText(text, sent),
    field: (field) => (field === undefined || !FIELD_NAME_SHAPE.test(field) || sent.quotedIn(field) ? undefined : field),
    body: (bodyText, maxChars) => screenResponseText(bodyText, sent, maxChars),
  };
}

export function screenFor(status: number, sent: SentValues): AnswerScreen {
  return status >= 500 ? quotingScreen(sent) : validationScreen(sent);
}
