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
 *   VALIDATION_WORDS (a fixed vocabulary of the words validation, HTTP and gateway messages use;
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
 * separated pairs) decoded. Readings are folded for case, width and accents. Anything
 * email-shaped counts as quoted, sent or not. Such a piece is replaced whole by WITHHELD:
 * rewriting the quoted parts in place could only remove the spellings someone thought of.
 */
import { removeSecrets, truncate } from './redact.ts';

export const WITHHELD = "[withheld: Trustpilot's answer quoted request data]";
export const NOT_RECOGNISED = "[withheld: Trustpilot's answer was not a recognised validation message]";

/** Shorter values are only matched as whole words: as substrings they would match everywhere. */
const MIN_SUBSTRING_LENGTH = 3;
/** Enough for double encoding (`&amp;#233;`, `%2540`); more rounds find nothing new in practice. */
const MAX_DECODE_ROUNDS = 3;
/** Bounds the walk over a request or response body; the bodies exchanged are a few levels deep. */
const MAX_LEAF_DEPTH = 8;
/** Numbers in validation text ("at most 255 characters") above this many digits are too much like data. */
const MAX_PLAIN_NUMBER_DIGITS = 4;
/** Mentioned field names listed after a marker; a message naming more says little more. */
const MAX_MENTIONS = 8;

// A word character for boundary purposes, in any script.
const WORD = String.raw`[\p{L}\p{N}_]`;
const EMAIL_SHAPED = new RegExp(`${WORD}@${WORD}`, 'u');
/**
 * Bytes decoded from base64 or hex runs are mostly noise, in which a loose `x@y` turns up by
 * chance; a whole address with a dotted domain does not.
 */
const EMAIL_ADDRESS = /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)*\.\p{L}{2,}/u;

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
// `\/` too: some JSON encoders escape every slash, which would split a base64 run in two.
const ESCAPE_SEQUENCE = /\\+u\{([0-9A-Fa-f]{1,6})\}|\\+u([0-9A-Fa-f]{4})|\\+x([0-9A-Fa-f]{2})|\\+(\/)/g;
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
  return text.replace(
    ESCAPE_SEQUENCE,
    (match, braced: string | undefined, four: string | undefined, two: string | undefined, slash: string | undefined) => {
      if (slash !== undefined) return slash;
      const hex = braced ?? four ?? two;
      if (hex === undefined) return match;
      const value = Number.parseInt(hex, 16);
      return four !== undefined ? String.fromCharCode(value) : (codePointOrNull(value) ?? match);
    },
  );
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
 * `text` as received and decoded (HTML entities, escapes, percent-encoding as UTF-8 and as
 * Latin-1) round after round, not yet folded: base64 is case-sensitive. The raw form is kept
 * because decoding can also destroy a match (a sent value that contains `&amp;`).
 */
function decodedSpellingsOf(text: string): string[] {
  const spellings = new Set<string>([text]);
  for (const charset of ['utf-8', 'latin1'] as const) {
    let current = text;
    for (let round = 0; round < MAX_DECODE_ROUNDS; round++) {
      const next = decodeOnce(current, charset);
      if (next === current) break;
      spellings.add(next);
      current = next;
    }
  }
  return [...spellings];
}

function unicodeEscape(character: string): string {
  return `\\u{${(character.codePointAt(0) ?? 0).toString(16)}}`;
}

/** Separators a server or a person might put between the letters of a value to spread it out. */
const SINGLE_SEPARATORS = [' ', '.', '-', '_', ',', ';', ':', '|', '/', '*', '+', '·', '•'];

/** Per separator: a run of single characters, each followed by exactly one separator (`b o b`). */
const SPACED_RUNS: readonly RegExp[] = SINGLE_SEPARATORS.map((separator) => {
  const s = unicodeEscape(separator);
  const single = String.raw`[^\s${s}]`;
  return new RegExp(String.raw`(?<![^\s${s}])${single}(?:${s}${single})+(?!${single})`, 'gu');
});

/** The reading with each spaced-out run joined again, one reading per separator that occurs. */
function joinedSpacedRuns(reading: string): string[] {
  const joined: string[] = [];
  for (const pattern of SPACED_RUNS) {
    const next = reading.replace(pattern, (run) => Array.from(run).filter((_, index) => index % 2 === 0).join(''));
    if (next !== reading) joined.push(next);
  }
  return joined;
}

/**
 * Every plain reading of `text` worth comparing, folded: the decoded spellings, `+` read as a
 * space, and spaced-out runs joined.
 */
export function readingsOf(text: string): string[] {
  const readings = new Set<string>();
  for (const spelling of decodedSpellingsOf(text)) {
    readings.add(spelling);
    if (spelling.includes('+')) readings.add(spelling.replaceAll('+', ' '));
  }
  const folded = new Set([...readings].map(foldForMatching));
  for (const reading of [...folded]) for (const joined of joinedSpacedRuns(reading)) folded.add(joined);
  return [...folded];
}

// At least 3 bytes' worth: the shortest value matched as a substring.
const BASE64_RUN = /[A-Za-z0-9+/_-]{4,}={0,2}/g;
const HEX_RUN = /[0-9A-Fa-f]{6,}/g;
const SEPARATED_HEX_PAIRS = /(?<![0-9A-Fa-f])[0-9A-Fa-f]{2}([ :.,-])[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2})+(?![0-9A-Fa-f])/g;
const utf8 = new TextDecoder('utf-8');

function bytesAsText(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}

/**
 * Runs decoded in place at one alignment: a value glued to other letters (`id=Ym9i…`) starts
 * its encoding somewhere inside the run, so every offset within one group is tried.
 */
function decodeBase64Runs(text: string, offset: number): string {
  // Node's decoder takes both alphabets, with or without padding.
  return text.replace(BASE64_RUN, (run) => (run.length - offset < 4 ? run : bytesAsText(Buffer.from(run.slice(offset), 'base64'))));
}

function decodeHexRuns(text: string, offset: number): string {
  return text.replace(HEX_RUN, (run) => (run.length - offset < 6 ? run : bytesAsText(Buffer.from(run.slice(offset), 'hex'))));
}

function decodeSeparatedHexPairs(text: string): string {
  return text.replace(SEPARATED_HEX_PAIRS, (run) => bytesAsText(Buffer.from(run.replace(/[^0-9A-Fa-f]/g, ''), 'hex')));
}

/** Readings with base64 and hex runs decoded (each at every alignment), folded. */
function encodedReadingsOf(text: string): string[] {
  const readings = new Set<string>();
  const add = (spelling: string, decoded: string): void => {
    if (decoded === spelling) return;
    readings.add(decoded);
    const further = decodeOnce(decoded, 'utf-8');
    if (further !== decoded) readings.add(further);
  };
  for (const spelling of decodedSpellingsOf(text)) {
    for (let offset = 0; offset < 4; offset++) add(spelling, decodeBase64Runs(spelling, offset));
    for (let offset = 0; offset < 2; offset++) add(spelling, decodeHexRuns(spelling, offset));
    add(spelling, decodeSeparatedHexPairs(spelling));
  }
  return [...new Set([...readings].map(foldForMatching))];
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/**
 * The forms of one sent value that must not appear: the value, its words, an email's two
 * halves, and the words run together with and without their punctuation: a spaced-out value
 * joins again without its spaces ("A l B o" → "albo"), or, when its own hyphens served as the
 * separators, without them too ("O-R-D-E-R-7-7" → "order77").
 */
function formsOf(value: string): string[] {
  const trimmed = value.trim();
  const words = trimmed.split(/\s+/u);
  const forms = [trimmed, ...words, words.join(''), trimmed.replace(/[^\p{L}\p{N}]/gu, '')];
  const at = trimmed.lastIndexOf('@');
  if (at > 0) forms.push(trimmed.slice(0, at), trimmed.slice(at + 1));
  return [...new Set(forms)];
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
  /** Every folded value, for "does any sent value contain this number". */
  private readonly joined: string;

  private constructor(substrings: string[], shortWords: string[], joined: string) {
    this.substrings = new SubstringIndex(substrings);
    // Longest first, so that an alternative that is a prefix of another cannot shadow it.
    const alternatives = shortWords.sort((a, b) => b.length - a.length).map(escapeRegExp);
    this.shortWords = alternatives.length === 0 ? null : new RegExp(`(?<!${WORD})(?:${alternatives.join('|')})(?!${WORD})`, 'u');
    this.joined = joined;
  }

  static of(values: Iterable<string | undefined>): SentValues {
    const substrings = new Set<string>();
    const shortWords = new Set<string>();
    const folded: string[] = [];
    for (const value of values) {
      if (value === undefined) continue;
      folded.push(foldForMatching(value));
      for (const form of formsOf(value)) {
        const foldedForm = foldForMatching(form).trim();
        if (foldedForm === '') continue;
        if (foldedForm.length >= MIN_SUBSTRING_LENGTH) substrings.add(foldedForm);
        else shortWords.add(foldedForm);
      }
    }
    return new SentValues([...substrings], [...shortWords], folded.join('\u0000'));
  }

  /** True when `text` (in any of its readings) quotes a sent value or contains anything email-shaped. */
  quotedIn(text: string): boolean {
    if (/%40/i.test(text)) return true;
    if (readingsOf(text).some((reading) => this.quotedInReading(reading))) return true;
    return encodedReadingsOf(text).some((reading) => EMAIL_ADDRESS.test(reading) || this.substrings.occursIn(reading));
  }

  /** True when some sent value contains `fragment` (folded), e.g. the digits of a number in a message. */
  contains(fragment: string): boolean {
    return this.joined.includes(foldForMatching(fragment));
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

/*
 * The vocabulary of plain validation text: words of validation messages, HTTP reason phrases,
 * OAuth and API-gateway errors, and the format hints of date fields. Only words that cannot
 * identify a person or an order belong here; a name that is also a word ("May") is caught by
 * the quoting check that plain text must pass as well.
 */
const VALIDATION_WORDS: ReadonlySet<string> = new Set(
  `
  a an the this that these those it its is are was were be been being has have had do does did done
  not no nor none neither either or and but if then than as at by for from in into of on onto to with within without
  per via only also both each every all any some other another one two more most less least many much too very same such
  must should shall can cannot could may might will would need needs needed here there which what when where
  isn't aren't wasn't doesn't don't didn't can't won't couldn't shouldn't
  please try again later retry check ensure use using used provide provided supply supplied specify specified
  expected expecting expects got given received
  valid invalid validation validate validated fail failed fails failure error errors occurred occur problem problems
  issue issues something went wrong unknown unexpected unsupported supported support accepted accept acceptable
  allowed allow permitted refused rejected reject denied forbidden unauthorized unauthorised authorized authorised
  authentication authorization authorisation access accessible resource resources found exist exists existing already
  duplicate duplicated unique conflict required require requires missing empty blank null undefined present set
  format formatted malformed well formed parse parsing parsed syntax json xml body content type types media
  application text plain charset encoding encoded utf
  field fields value values key keys property properties parameter parameters param params member members
  name names attribute attributes item items element elements entry entries list array arrays object objects
  string strings number numbers numeric integer boolean
  date dates time times datetime timestamp zone timezone utc iso yyyy mm dd hh ss ddthh z offset
  day days hour hours minute minutes seconds
  length long longer short shorter large larger small smaller big size maximum minimum max min limit limits
  exceed exceeds exceeded character characters chars digit digits letter letters byte bytes
  between greater equal range positive negative non zero
  first second last earlier later before after future past real
  email emails address addresses mail domain url urls uri http https absolute relative link links redirect
  consumer consumers customer customers recipient recipients sender reply reference location locations
  locale locales language languages region country en us
  invitation invitations invite review reviews service services product products sku skus catalogue catalog
  tag tags template templates preferred send sending sent scheduled
  business unit units user users id ids identifier account accounts plan
  request requests response method methods gone precondition payload entity unprocessable locked
  rate ratelimit quota violation spike arrest policy policies throttled throttle
  token tokens access refresh expired expires expiry revoked grant client credentials credential secret
  password username api apikey oauth keymanagement app apps approved scope header headers bearer basic
  server internal unavailable timeout timed out gateway bad upstream messaging adaptors flow steps protocol
  mutually exclusive exactly contain contains containing contained match matches matching mismatch pattern
  permission permissions role roles admin manager rights right belong belongs owner
  configured configuration enabled disabled active inactive yet once twice call calls action operation
  redacted injected fault faultstring errorcode detail details description message messages reason title
  status code codes trace correlation instance
  `
    .trim()
    .split(/\s+/),
);

/**
 * Names of the fields of the bodies our calls send (invitation and erasure requests), in their
 * canonical spelling; `body` is how the fake server names the body as a whole. The token
 * request's form fields are plain words instead: its errors are explained by the client itself.
 */
const REQUEST_FIELDS = [
  'consumerEmail',
  'consumerName',
  'referenceNumber',
  'locale',
  'senderEmail',
  'senderName',
  'replyTo',
  'locationId',
  'type',
  'serviceReviewInvitation',
  'productReviewInvitation',
  'templateId',
  'preferredSendTime',
  'redirectUri',
  'tags',
  'products',
  'productSkus',
  'businessUnitId',
  'businessUserId',
  'customerEmails',
  'deleteOlderThan',
  'body',
] as const;

/** Case, `_` and `-` do not matter: `ConsumerEmail` and `consumer_email` name consumerEmail. */
function fieldKey(name: string): string {
  return name.toLowerCase().replace(/[_-]/g, '');
}

const FIELD_BY_KEY: ReadonlyMap<string, string> = new Map(REQUEST_FIELDS.map((name) => [fieldKey(name), name]));

const PATH_SEGMENT = /^([A-Za-z_][A-Za-z0-9_]*)((?:\[\d{1,3}\])*)$/;
// A property path as it may appear in text: `consumerEmail`, `$.consumerEmail`, `productReviewInvitation.productSkus[0]`.
const PATH_IN_TEXT = /(?:\$\.?)?[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d{1,3}\])*/g;

/** A path of known request fields in canonical spelling, or undefined when any segment is not one. */
function canonicalFieldPath(path: string): string | undefined {
  const trimmed = path.trim().replace(/^\$\.?/, '');
  if (trimmed === '' || trimmed.length > 200) return undefined;
  const segments: string[] = [];
  for (const segment of trimmed.split('.')) {
    const match = PATH_SEGMENT.exec(segment);
    const name = match?.[1] === undefined ? undefined : FIELD_BY_KEY.get(fieldKey(match[1]));
    if (name === undefined) return undefined;
    segments.push(`${name}${match?.[2] ?? ''}`);
  }
  return segments.join('.');
}

/** The request field names `text` mentions, canonical, in order of appearance. */
function mentionedFields(text: string): string[] {
  const found = new Set<string>();
  for (const [candidate] of text.matchAll(PATH_IN_TEXT)) {
    const path = canonicalFieldPath(candidate);
    if (path !== undefined) {
      found.add(path);
      continue;
    }
    for (const segment of candidate.replace(/^\$\.?/, '').split('.')) {
      const name = FIELD_BY_KEY.get(fieldKey(segment.replace(/\[\d+\]/g, '')));
      if (name !== undefined) found.add(name);
    }
  }
  return [...found];
}

const UUID_SHAPE = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;
const NUMERIC_CODE = /^\d{1,9}$/;
const CODE_SHAPE = /^[A-Za-z0-9_.:-]{1,64}$/;
const VERSION_WORD = /^v\d{1,2}$/i;
// camelCase and PascalCase parts, an acronym staying whole: `InvalidAPICall` → Invalid, API, Call.
const CAMEL_PARTS = /[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+/g;

function isPlainNumber(digits: string, sent: SentValues): boolean {
  return /^\d+$/.test(digits) && digits.length <= MAX_PLAIN_NUMBER_DIGITS && !sent.contains(digits);
}

function isVocabularyPart(part: string, sent: SentValues): boolean {
  return VALIDATION_WORDS.has(part.toLowerCase()) || VERSION_WORD.test(part) || isPlainNumber(part, sent);
}

/** One word of validation text: a vocabulary word, a field name, a plain number, or made of those. */
function isPlainWord(word: string, sent: SentValues): boolean {
  const possessive = word.toLowerCase().endsWith("'s") ? word.slice(0, -2) : undefined;
  if (possessive !== undefined) return isPlainWord(possessive, sent);
  if (isVocabularyPart(word, sent) || FIELD_BY_KEY.has(fieldKey(word))) return true;
  if (word.includes("'")) return false;
  const pieces = word.split('_').filter((piece) => piece !== '');
  if (pieces.length === 0) return true;
  return pieces.every((piece) => {
    if (isVocabularyPart(piece, sent) || FIELD_BY_KEY.has(fieldKey(piece))) return true;
    const parts = piece.match(CAMEL_PARTS) ?? [];
    return parts.join('') === piece && parts.every((part) => isVocabularyPart(part, sent));
  });
}

const PLAIN_TEXT_CHARACTERS = /^[A-Za-z0-9\s.,:;!?'"()[\]/_-]*$/;
const IGNORED_ABBREVIATIONS = /\b(?:e\.g|i\.e)\.|\(s\)/gi;
const WORDS = /[A-Za-z0-9_]+(?:'[A-Za-z]+)?/g;

/** Text made only of vocabulary words, field paths and plain numbers (see the header). */
function isPlainValidationText(text: string, sent: SentValues): boolean {
  const normalised = text.replace(/[‘’]/g, "'").replace(/[“”]/g, '"');
  if (!PLAIN_TEXT_CHARACTERS.test(normalised)) return false;
  // Known paths go first, so that the index in `tags[0]` is not read as a number of its own.
  const withoutPaths = normalised.replace(IGNORED_ABBREVIATIONS, ' ').replace(PATH_IN_TEXT, (candidate) => {
    return canonicalFieldPath(candidate) === undefined ? candidate : ' ';
  });
  for (const [word] of withoutPaths.matchAll(WORDS)) if (!isPlainWord(word, sent)) return false;
  return true;
}

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
