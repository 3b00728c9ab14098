/**
 * The tokens of a SCIM filter (RFC 7644 section 3.4.2.2): brackets, JSON string literals and
 * words (attribute paths, operators, keywords and bare values). See filter.ts for the grammar.
 */
import { scimErrors } from './errors.ts';

export type Token =
  | { readonly kind: '(' | ')' | '[' | ']'; readonly at: number }
  | { readonly kind: 'string'; readonly value: string; readonly at: number }
  | { readonly kind: 'word'; readonly text: string; readonly at: number };

/** A JSON number's form (RFC 8259 section 6): what a bare word or a numeric comparison value must look like. */
export const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

const PUNCTUATION = new Set(['(', ')', '[', ']']);
const WORD_END = /[\s()[\]"]/;

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < text.length) {
    const char = text[index] as string;
    if (/\s/.test(char)) {
      index += 1;
    } else if (PUNCTUATION.has(char)) {
      tokens.push({ kind: char as '(' | ')' | '[' | ']', at: index });
      index += 1;
    } else if (char === '"') {
      const end = endOfString(text, index);
      tokens.push({ kind: 'string', value: decodeString(text.slice(index, end), index), at: index });
      index = end;
    } else {
      let end = index + 1;
      while (end < text.length && !WORD_END.test(text[end] as string)) end += 1;
      tokens.push({ kind: 'word', text: text.slice(index, end), at: index });
      index = end;
    }
  }
  return tokens;
}

/** The index just past the closing quote of the string literal opening at `start`. */
function endOfString(text: string, start: number): number {
  for (let index = start + 1; index < text.length; index += 1) {
    if (text[index] === '\\') index += 1;
    else if (text[index] === '"') return index + 1;
  }
  throw scimErrors.invalidFilter(`The string starting at character ${start + 1} is not closed with '"'`);
}

/** RFC 7644 section 3.4.2.2: string values are JSON strings (RFC 7159 section 7), escapes included. */
function decodeString(literal: string, start: number): string {
  try {
    return JSON.parse(literal) as string;
  } catch {
    throw scimErrors.invalidFilter(`The string starting at character ${start + 1} has an invalid escape sequence`);
  }
}
