/**
 * The filter parser: tokens to a `FilterNode` AST by recursive descent, with the grammar and the
 * two leniencies described in filter.ts. Every malformation raises `invalidFilter` saying what
 * and where.
 */
import { parseAttributeName } from './attribute-name.ts';
import { scimErrors } from './errors.ts';
import { JSON_NUMBER, type Token, tokenize } from './filter.tokenizer.ts';
import type { AttributePath, CompareOperator, CompareValue, FilterNode } from './scim.types.ts';

const COMPARE_OPERATORS: readonly CompareOperator[] = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'];
const KEYWORDS = new Set(['and', 'or', 'not']);
/** Bound recursion on hostile input: ten thousand nested parentheses, or a chain of ten thousand `or`s. */
const MAX_DEPTH = 50;
const MAX_COMPARISONS = 1000;

const describe = (token: Token | undefined): string => {
  if (token === undefined) return 'the end of the filter';
  if (token.kind === 'word') return `'${token.text}' at character ${token.at + 1}`;
  if (token.kind === 'string') return `the string at character ${token.at + 1}`;
  return `'${token.kind}' at character ${token.at + 1}`;
};

const isKeyword = (token: Token | undefined, keyword: string): boolean => token?.kind === 'word' && token.text.toLowerCase() === keyword;

class Parser {
  private index = 0;
  private depth = 0;
  private comparisons = 0;

  constructor(private readonly tokens: readonly Token[]) {}

  parseAll(insideValuePath: boolean): FilterNode {
    if (this.tokens.length === 0) throw scimErrors.invalidFilter('The filter is empty');
    const node = this.parseOr(insideValuePath);
    const rest = this.peek();
    if (rest !== undefined) throw scimErrors.invalidFilter(`Unexpected ${describe(rest)}`);
    return node;
  }

  private peek(): Token | undefined {
    return this.tokens[this.index];
  }

  private next(): Token | undefined {
    const token = this.tokens[this.index];
    this.index += 1;
    return token;
  }

  private parseOr(inside: boolean): FilterNode {
    let left = this.parseAnd(inside);
    while (isKeyword(this.peek(), 'or')) {
      this.next();
      left = { op: 'or', left, right: this.parseAnd(inside) };
    }
    return left;
  }

  private parseAnd(inside: boolean): FilterNode {
    let left = this.parseUnary(inside);
    while (isKeyword(this.peek(), 'and')) {
      this.next();
      left = { op: 'and', left, right: this.parseUnary(inside) };
    }
    return left;
  }

  private parseUnary(inside: boolean): FilterNode {
    this.enter();
    try {
      if (!isKeyword(this.peek(), 'not')) return this.parsePrimary(inside);
      this.next();
      return { op: 'not', filter: this.parseUnary(inside) };
    } finally {
      this.depth -= 1;
    }
  }

  private enter(): void {
    this.depth += 1;
    if (this.depth > MAX_DEPTH) throw scimErrors.invalidFilter(`The filter is nested more than ${MAX_DEPTH} levels deep`);
  }

  private parsePrimary(inside: boolean): FilterNode {
    const token = this.next();
    if (token?.kind === '(') {
      const node = this.parseOr(inside);
      this.expect(')', `to close the '(' at character ${token.at + 1}`);
      return node;
    }
    if (token?.kind !== 'word' || KEYWORDS.has(token.text.toLowerCase())) {
      throw scimErrors.invalidFilter(`Expected an attribute path or '(' but found ${describe(token)}`);
    }
    return this.parseAttributeExpression(token.text, inside);
  }

  private expect(kind: ')' | ']', purpose: string): void {
    const token = this.next();
    if (token?.kind !== kind) throw scimErrors.invalidFilter(`Expected '${kind}' ${purpose} but found ${describe(token)}`);
  }

  private parseAttributeExpression(pathText: string, inside: boolean): FilterNode {
    this.comparisons += 1;
    if (this.comparisons > MAX_COMPARISONS) {
      throw scimErrors.invalidFilter(`The filter has more than ${MAX_COMPARISONS} comparisons`);
    }
    const path = parseAttributeName(pathText, scimErrors.invalidFilter);
    if (this.peek()?.kind === '[') return this.parseValuePath(path, pathText, (this.next() as Token).at, inside);
    return this.parseComparison(path, pathText);
  }

  private parseComparison(path: AttributePath, pathText: string): FilterNode {
    const token = this.next();
    const operator = token?.kind === 'word' ? token.text.toLowerCase() : undefined;
    if (operator === 'pr') return { op: 'pr', path };
    if (!COMPARE_OPERATORS.includes(operator as CompareOperator)) {
      throw scimErrors.invalidFilter(`Expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr) after '${pathText}' but found ${describe(token)}`);
    }
    return { op: operator as CompareOperator, path, value: this.parseValue(operator as string) };
  }

  private parseValuePath(path: AttributePath, pathText: string, at: number, inside: boolean): FilterNode {
    // RFC 7644 section 3.4.2.2: valFilter has no valuePath of its own.
    if (inside) throw scimErrors.invalidFilter(`Value filters cannot be nested ('[' at character ${at + 1})`);
    if (path.subAttribute !== undefined) {
      throw scimErrors.invalidFilter(`A value filter must follow an attribute, not the sub-attribute '${pathText}'`);
    }
    const filter = this.parseOr(true);
    this.expect(']', `to close the '[' at character ${at + 1}`);
    const tail = this.peek();
    if (tail?.kind !== 'word' || !tail.text.startsWith('.')) return { op: 'valuePath', path, filter };
    // `emails[type eq "work"].value eq "a@b.c"` (Entra ID checks uniqueness this way): a value path
    // followed by a sub-attribute and a comparison, which means one value satisfying both, i.e.
    // `emails[type eq "work" and value eq "a@b.c"]`.
    this.next();
    const subName = tail.text.slice(1);
    const sub = parseAttributeName(subName, scimErrors.invalidFilter);
    if (sub.subAttribute !== undefined) throw scimErrors.invalidFilter(`'${pathText}[...]${tail.text}' names a sub-attribute of a sub-attribute`);
    const comparison = this.parseComparison(sub, `${pathText}[...]${tail.text}`);
    return { op: 'valuePath', path, filter: { op: 'and', left: filter, right: comparison } };
  }

  private parseValue(operator: string): CompareValue {
    const token = this.next();
    if (token?.kind === 'string') return token.value;
    if (token?.kind !== 'word' || KEYWORDS.has(token.text.toLowerCase())) {
      throw scimErrors.invalidFilter(`Expected a value after '${operator}' but found ${describe(token)}`);
    }
    return bareWordValue(token.text);
  }
}

function bareWordValue(text: string): CompareValue {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (text === 'null') return null;
  // A number that does not print back the same (e.g. a 20-digit employee id) stays a string.
  if (JSON_NUMBER.test(text) && String(Number(text)) === text) return Number(text);
  return text;
}

/** Parses a filter expression; every malformation raises `invalidFilter` saying what is wrong. */
export function parseFilter(text: string): FilterNode {
  return new Parser(tokenize(text)).parseAll(false);
}

/** Parses the filter between the brackets of a value path, where brackets may not nest. */
export function parseValueFilter(text: string): FilterNode {
  return new Parser(tokenize(text)).parseAll(true);
}
