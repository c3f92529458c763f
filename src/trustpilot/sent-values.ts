/**
 * What one call sent, prepared for finding it in server text: every form of every sent value,
 * looked for in each reading of the text (readings.ts).
 */
import { encodedReadingsOf, foldForMatching, readingsOf } from './readings.ts';

/** Shorter values are only matched as whole words: as substrings they would match everywhere. */
const MIN_SUBSTRING_LENGTH = 3;
/** Bounds the walk over a request or response body; the bodies exchanged are a few levels deep. */
export const MAX_LEAF_DEPTH = 8;

// A word character for boundary purposes, in any script.
const WORD = String.raw`[\p{L}\p{N}_]`;
const EMAIL_SHAPED = new RegExp(`${WORD}@${WORD}`, 'u');
/**
 * Bytes decoded from base64 or hex runs are mostly noise, in which a loose `x@y` turns up by
 * chance; a whole address with a dotted domain does not.
 */
const EMAIL_ADDRESS = /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)*\.\p{L}{2,}/u;

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
