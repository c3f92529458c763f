/**
 * The readings of a piece of server text in which a sent value is looked for: as received, with
 * the encodings a server, template engine or proxy may apply undone, and folded so that case,
 * width, accents and spacing do not matter. `SentValues` (sent-values.ts) compares against them.
 */

/** Enough for double encoding (`&amp;#233;`, `%2540`); more rounds find nothing new in practice. */
const MAX_DECODE_ROUNDS = 3;

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

// At least 3 bytes' worth: the shortest sent value matched as a substring (sent-values.ts).
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
export function encodedReadingsOf(text: string): string[] {
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

