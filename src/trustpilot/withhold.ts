/**
 * Decides whether a piece of Trustpilot's text may be kept on an error. Trustpilot's answers
 * can quote what we sent ("'Zoë' is not valid"), in any encoding a server or proxy cares to
 * use. Rewriting the quoted parts in place can only remove the spellings someone thought of,
 * so the decision here is binary: a piece is kept only when no value the call sent can be
 * found in it, however encoded; otherwise the whole piece is replaced by a fixed marker.
 */
import { removeSecrets, truncate } from './redact.ts';

export const WITHHELD = "[withheld: Trustpilot's answer quoted request data]";

/** Shorter values are only matched as whole words: as substrings they would match everywhere. */
const MIN_SUBSTRING_LENGTH = 3;
/** Enough for double encoding (`&amp;#233;`, `%2540`); more rounds find nothing new in practice. */
const MAX_DECODE_ROUNDS = 3;
/** Bounds the walk over a request body; the bodies sent are a few levels deep. */
const MAX_LEAF_DEPTH = 8;

// A word character for boundary purposes, in any script.
const WORD = String.raw`[\p{L}\p{N}_]`;
const EMAIL_SHAPED = new RegExp(`${WORD}@${WORD}`, 'u');

// HTML named entities a server or template engine plausibly emits for names: the Latin-1 range
// (U+00A0..U+00FF, in code point order) plus a few typographic ones.
const LATIN1_ENTITY_NAMES = (
  'nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr deg plusmn sup2 sup3 acute micro ' +
  'para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest Agrave Aacute Acirc Atilde Auml Aring AElig Ccedil ' +
  'Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml ETH Ntilde Ograve Oacute Ocirc Otilde Ouml times Oslash Ugrave ' +
  'Uacute Ucirc Uuml Yacute THORN szlig agrave aacute acirc atilde auml aring aelig ccedil egrave eacute ecirc euml ' +
  'igrave iacute icirc iuml eth ntilde ograve oacute ocirc otilde ouml divide oslash ugrave uacute ucirc uuml yacute thorn yuml'
).split(' ');

const NAMED_ENTITIES: ReadonlyMap<string, string> = new Map([
  ...LATIN1_ENTITY_NAMES.map((name, index): [string, string] => [name, String.fromCodePoint(0xa0 + index)]),
  ['amp', '&'],
  ['lt', '<'],
  ['gt', '>'],
  ['quot', '"'],
  ['apos', "'"],
  ['OElig', 'Œ'],
  ['oelig', 'œ'],
  ['Scaron', 'Š'],
  ['scaron', 'š'],
  ['Yuml', 'Ÿ'],
  ['ndash', '–'],
  ['mdash', '—'],
  ['lsquo', '‘'],
  ['rsquo', '’'],
  ['ldquo', '“'],
  ['rdquo', '”'],
  ['hellip', '…'],
]);

const HTML_ENTITY = /&(?:#(\d{1,7})|#[xX]([0-9A-Fa-f]{1,6})|([A-Za-z][A-Za-z0-9]{1,31}));?/g;
// Any number of backslashes: an escape that was itself JSON-encoded arrives as `\\u00eb`.
const ESCAPE_SEQUENCE = /\\+u\{([0-9A-Fa-f]{1,6})\}|\\+u([0-9A-Fa-f]{4})|\\+x([0-9A-Fa-f]{2})/g;
const PERCENT_RUN = /(?:%[0-9A-Fa-f]{2})+/g;

type PercentCharset = 'utf-8' | 'latin1';

function codePointOrNull(value: number): string | null {
  return Number.isInteger(value) && value >= 0 && value <= 0x10ffff ? String.fromCodePoint(value) : null;
}

function decodeHtmlEntities(text: string): string {
  return text.replace(HTML_ENTITY, (match, decimal: string | undefined, hex: string | undefined, name: string | undefined) => {
    if (decimal !== undefined) return codePointOrNull(Number.parseInt(decimal, 10)) ?? match;
    if (hex !== undefined) return codePointOrNull(Number.parseInt(hex, 16)) ?? match;
    return (name !== undefined ? NAMED_ENTITIES.get(name) : undefined) ?? match;
  });
}

/** JSON/JavaScript escapes; a `\uD83D\uDE00` pair decodes to two halves that join again in the string. */
function decodeEscapes(text: string): string {
  return text.replace(ESCAPE_SEQUENCE, (match, braced: string | undefined, four: string | undefined, two: string | undefined) => {
    const hex = braced ?? four ?? two;
    if (hex === undefined) return match;
    const value = Number.parseInt(hex, 16);
    return four !== undefined ? String.fromCharCode(value) : (codePointOrNull(value) ?? match);
  });
}

/** Invalid UTF-8 does not stop decoding: the bytes around it still become characters. */
function decodePercentRuns(text: string, charset: PercentCharset): string {
  return text.replace(PERCENT_RUN, (run) => {
    const bytes = Uint8Array.from(run.slice(1).split('%'), (pair) => Number.parseInt(pair, 16));
    return new TextDecoder(charset).decode(bytes);
  });
}

function decodeOnce(text: string, charset: PercentCharset): string {
  return decodePercentRuns(decodeEscapes(decodeHtmlEntities(text)), charset);
}

/**
 * Case-, width-, accent- and spacing-insensitive form used on both sides of every comparison:
 * NFKC (full-width and ligature forms), case folding (lower, upper, lower again, so that ß, ẞ
 * and SS all end as ss), then decomposition with marks and invisible format characters dropped
 * (Zoë, Zoe\u0308 and Zoe all compare equal), and runs of white space made one space.
 */
export function foldForMatching(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .toUpperCase()
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\p{M}\p{Cf}]/gu, '')
    .replace(/\s+/gu, ' ');
}

/**
 * Every reading of `text` worth comparing: as received, and decoded (HTML entities, escapes,
 * percent-encoding as UTF-8 and as Latin-1, `+` as a space) round after round. The raw form
 * is kept because decoding can also destroy a match (a sent value that contains `&amp;`).
 */
export function readingsOf(text: string): string[] {
  const readings = new Set<string>([text]);
  for (const charset of ['utf-8', 'latin1'] as const) {
    let current = text;
    for (let round = 0; round < MAX_DECODE_ROUNDS; round++) {
      const next = decodeOnce(current, charset);
      if (next === current) break;
      readings.add(next);
      current = next;
    }
  }
  for (const reading of [...readings]) if (reading.includes('+')) readings.add(reading.replaceAll('+', ' '));
  return [...new Set([...readings].map(foldForMatching))];
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** The forms of one sent value that must not appear: the value, its words, an email's two halves. */
function formsOf(value: string): string[] {
  const trimmed = value.trim();
  const forms = [trimmed, ...trimmed.split(/\s+/u)];
  const at = trimmed.lastIndexOf('@');
  if (at > 0) forms.push(trimmed.slice(0, at), trimmed.slice(at + 1));
  return forms;
}

/**
 * Finds any of many strings (all at least MIN_SUBSTRING_LENGTH long) in a text in one pass, by
 * their first characters: an erasure call may send thousands of addresses, and testing each
 * with `includes` against a 64 KB error page would take seconds.
 */
class SubstringIndex {
  private readonly byPrefix = new Map<string, string[]>();

  constructor(values: Iterable<string>) {
    for (const value of values) {
      const prefix = value.slice(0, MIN_SUBSTRING_LENGTH);
      const bucket = this.byPrefix.get(prefix);
      if (bucket === undefined) this.byPrefix.set(prefix, [value]);
      else bucket.push(value);
    }
  }

  occursIn(text: string): boolean {
    if (this.byPrefix.size === 0) return false;
    for (let at = 0; at + MIN_SUBSTRING_LENGTH <= text.length; at++) {
      const candidates = this.byPrefix.get(text.slice(at, at + MIN_SUBSTRING_LENGTH));
      if (candidates?.some((value) => text.startsWith(value, at))) return true;
    }
    return false;
  }
}

/**
 * Everything one call sent, prepared once for the checks of all pieces of its answer.
 * A sent value (or any of its forms) of 3 or more characters must not occur anywhere; a shorter
 * one ("Al", "Li") must not occur as a whole word. (A longer form occurring as a whole word
 * also occurs as a substring, so only the short ones need the word check.)
 */
export class SentValues {
  private readonly substrings: SubstringIndex;
  private readonly shortWords: RegExp | null;

  private constructor(substrings: string[], shortWords: string[]) {
    this.substrings = new SubstringIndex(substrings);
    // Longest first, so that an alternative that is a prefix of another cannot shadow it.
    const alternatives = shortWords.sort((a, b) => b.length - a.length).map(escapeRegExp);
    this.shortWords = alternatives.length === 0 ? null : new RegExp(`(?<!${WORD})(?:${alternatives.join('|')})(?!${WORD})`, 'u');
  }

  static of(values: Iterable<string | undefined>): SentValues {
    const substrings = new Set<string>();
    const shortWords = new Set<string>();
    for (const value of values) {
      if (value === undefined) continue;
      for (const form of formsOf(value)) {
        const folded = foldForMatching(form).trim();
        if (folded === '') continue;
        if (folded.length >= MIN_SUBSTRING_LENGTH) substrings.add(folded);
        else shortWords.add(folded);
      }
    }
    return new SentValues([...substrings], [...shortWords]);
  }

  /** True when `text` (in any of its readings) quotes a sent value or contains anything email-shaped. */
  quotedIn(text: string): boolean {
    if (/%40/i.test(text)) return true;
    return readingsOf(text).some((reading) => this.quotedInReading(reading));
  }

  private quotedInReading(reading: string): boolean {
    if (EMAIL_SHAPED.test(reading)) return true;
    if (this.substrings.occursIn(reading)) return true;
    return this.shortWords !== null && this.shortWords.test(reading);
  }
}

export interface StringLeavesOptions {
  /** Keys whose values are protocol constants chosen by the code (e.g. `type: "email"`), not data. */
  ignoreKeys?: readonly string[];
}

/** Every string leaf of a JSON-like value (objects, arrays), e.g. all the values of a request body. */
export function stringLeavesOf(value: unknown, options: StringLeavesOptions = {}): string[] {
  const ignore = new Set(options.ignoreKeys ?? []);
  const leaves: string[] = [];
  const seen = new Set<object>();
  const visit = (node: unknown, depth: number): void => {
    if (typeof node === 'string') {
      leaves.push(node);
      return;
    }
    if (typeof node !== 'object' || node === null || depth > MAX_LEAF_DEPTH || seen.has(node)) return;
    seen.add(node);
    if (Array.isArray(node)) {
      for (const item of node) visit(item, depth + 1);
      return;
    }
    for (const [key, child] of Object.entries(node)) {
      if (!ignore.has(key)) visit(child, depth + 1);
    }
  };
  visit(value, 0);
  return leaves;
}

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
