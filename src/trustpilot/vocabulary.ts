/**
 * What counts as plain validation text in a 4xx answer: a fixed vocabulary, the names of the
 * request fields, and short numbers that occur in no sent value. The rules are set out in
 * withhold.ts, which applies them.
 */
import type { SentValues } from './sent-values.ts';

/** Numbers in validation text ("at most 255 characters") above this many digits are too much like data. */
const MAX_PLAIN_NUMBER_DIGITS = 4;

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
export function canonicalFieldPath(path: string): string | undefined {
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
export function mentionedFields(text: string): string[] {
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

const VERSION_WORD = /^v\d{1,2}$/i;
// camelCase and PascalCase parts, an acronym staying whole: `InvalidAPICall` → Invalid, API, Call.
const CAMEL_PARTS = /[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+/g;

export function isPlainNumber(digits: string, sent: SentValues): boolean {
  return /^\d+$/.test(digits) && digits.length <= MAX_PLAIN_NUMBER_DIGITS && !sent.contains(digits);
}

function isVocabularyPart(part: string, sent: SentValues): boolean {
  return VALIDATION_WORDS.has(part.toLowerCase()) || VERSION_WORD.test(part) || isPlainNumber(part, sent);
}

/** One word of validation text: a vocabulary word, a field name, a plain number, or made of those. */
export function isPlainWord(word: string, sent: SentValues): boolean {
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

/** Text made only of vocabulary words, field paths and plain numbers (the rules: withhold.ts). */
export function isPlainValidationText(text: string, sent: SentValues): boolean {
  const normalised = text.replace(/[‘’]/g, "'").replace(/[“”]/g, '"');
  if (!PLAIN_TEXT_CHARACTERS.test(normalised)) return false;
  // Known paths go first, so that the index in `tags[0]` is not read as a number of its own.
  const withoutPaths = normalised.replace(IGNORED_ABBREVIATIONS, ' ').replace(PATH_IN_TEXT, (candidate) => {
    return canonicalFieldPath(candidate) === undefined ? candidate : ' ';
  });
  for (const [word] of withoutPaths.matchAll(WORDS)) if (!isPlainWord(word, sent)) return false;
  return true;
}
