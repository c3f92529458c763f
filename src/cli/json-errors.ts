import { CliError } from './output.ts';

const describeCharacter = (character: string): string => {
  if (character === '\n' || character === '\r') return 'a line break';
  if (character === '\t') return 'a tab';
  if (character < ' ') return `the control character U+${character.charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}`;
  return `'${character}'`;
};

/**
 * Where, and why, a text is not JSON: the offset of the first character JSON does not allow
 * there. Undefined when it is JSON. Kept separate from JSON.parse, whose messages name an
 * offset (or none) but no line.
 */
export function locateJsonError(text: string): { offset: number; reason: string } | undefined {
  const containers: ('object' | 'list')[] = [];
  let index = 0;
  let state: 'value' | 'key' | 'after' = 'value';
  let comma: number | undefined;
  const length = text.length;
  const skipSpace = () => {
    while (index < length && (text[index] === ' ' || text[index] === '\t' || text[index] === '\n' || text[index] === '\r')) index += 1;
  };
  const found = () => (index < length ? describeCharacter(text[index] ?? '') : 'the end of the file');
  const scanString = (): { offset: number; reason: string } | undefined => {
    const start = index;
    index += 1;
    while (index < length) {
      const character = text[index] ?? '';
      if (character === '"') {
        index += 1;
        return undefined;
      }
      if (character < ' ') return { offset: index, reason: `${describeCharacter(character)} inside a string (a string must end on the line it starts; write \\n for a line break)` };
      if (character === '\\') {
        const escaped = text[index + 1] ?? '';
        if (escaped === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(index + 2, index + 6))) return { offset: index, reason: 'a \\u escape needs four hexadecimal digits' };
          index += 6;
          continue;
        }
        if (!'"\\/bfnrt'.includes(escaped) || escaped === '') return { offset: index, reason: `an invalid escape '\\${escaped}' (write \\\\ for a backslash)` };
        index += 2;
        continue;
      }
      index += 1;
    }
    return { offset: start, reason: 'a string that never ends (a missing closing ")' };
  };
  const numberPattern = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  for (;;) {
    skipSpace();
    if (state === 'value') {
      const character = text[index];
      if (character === undefined) return { offset: index, reason: 'the file ends where a value was expected' };
      if (character === '{' || character === '[') {
        containers.push(character === '{' ? 'object' : 'list');
        index += 1;
        skipSpace();
        if (text[index] === (character === '{' ? '}' : ']')) {
          index += 1;
          containers.pop();
          state = 'after';
        } else {
          state = character === '{' ? 'key' : 'value';
        }
        comma = undefined;
        continue;
      }
      if (character === '"') {
        const problem = scanString();
        if (problem) return problem;
        state = 'after';
        continue;
      }
      if (character === '-' || (character >= '0' && character <= '9')) {
        numberPattern.lastIndex = index;
        const match = numberPattern.exec(text);
        if (!match) return { offset: index, reason: 'an invalid number' };
        index += match[0].length;
        state = 'after';
        continue;
      }
      const literal = ['true', 'false', 'null'].find((word) => text.startsWith(word, index));
      if (literal !== undefined) {
        index += literal.length;
        state = 'after';
        continue;
      }
      if ((character === ']' || character === '}') && comma !== undefined) return { offset: comma, reason: `a comma before '${character}': JSON allows no trailing comma` };
      if (character === "'") return { offset: index, reason: "a single quote: JSON strings are in double quotes" };
      return { offset: index, reason: `${found()} where a value was expected` };
    }
    if (state === 'key') {
      if (text[index] === '}' && comma !== undefined) return { offset: comma, reason: "a comma before '}': JSON allows no trailing comma" };
      if (text[index] !== '"') return { offset: index, reason: `${found()} where a property name in double quotes was expected` };
      const problem = scanString();
      if (problem) return problem;
      skipSpace();
      if (text[index] !== ':') return { offset: index, reason: `${found()} where ':' was expected after the property name` };
      index += 1;
      state = 'value';
      comma = undefined;
      continue;
    }
    const container = containers.at(-1);
    if (container === undefined) return index < length ? { offset: index, reason: `${found()} after the end of the JSON value` } : undefined;
    const close = container === 'object' ? '}' : ']';
    if (index >= length) return { offset: index, reason: `the file ends inside ${container === 'object' ? 'an object' : 'a list'} (a missing '${close}')` };
    if (text[index] === ',') {
      comma = index;
      index += 1;
      state = container === 'object' ? 'key' : 'value';
      continue;
    }
    if (text[index] === close) {
      index += 1;
      containers.pop();
      comma = undefined;
      continue;
    }
    return { offset: index, reason: `${found()} where ',' or '${close}' was expected after ${container === 'object' ? 'a property value' : 'a list item'} (a missing comma?)` };
  }
}

/** `file:line:column: reason`, then the line and a caret under the column. */
function jsonErrorMessage(file: string, text: string, offset: number, reason: string): string {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  const lineEnd = text.indexOf('\n', offset) === -1 ? text.length : text.indexOf('\n', offset);
  const line = text.slice(0, lineStart).split('\n').length;
  const column = offset - lineStart + 1;
  const fullLine = text.slice(lineStart, lineEnd).replace(/\r$/, '');
  // A long line (a minified file) is shown around the column only.
  const from = Math.max(0, column - 1 - 60);
  const shown = fullLine.slice(from, from + 120);
  const caretAt = column - 1 - from;
  const pad = shown.slice(0, caretAt).replace(/[^\t]/g, ' ');
  return `${file}:${line}:${column}: not valid JSON: ${reason}\n  ${from > 0 ? '…' : ''}${shown}${from + 120 < fullLine.length ? '…' : ''}\n  ${from > 0 ? ' ' : ''}${pad}^`;
}

/** The JSON of a file, or a CliError saying where and why it is not JSON (by line and column when it can be located). */
export function parseJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const located = locateJsonError(text);
    if (located) throw new CliError(jsonErrorMessage(file, text, located.offset, located.reason));
    // JSON.parse's own words, without the excerpt of the file some versions quote.
    const reason = error instanceof Error ? (error.message.split('\n')[0] ?? '').replace(/, ".*" is not valid JSON$/, '') : String(error);
    throw new CliError(`${file}: not valid JSON (${reason})`);
  }
}
