/**
 * The slice of SOQL the fake Salesforce understands, parsed strictly: SELECT fields (and
 * `Lookup.Name` relationship fields) FROM one object, an optional WHERE of comparisons joined
 * by AND (=, !=, <, <=, >, >=, IN), ORDER BY one field, LIMIT. String literals follow SOQL's
 * escape rules, so a value that was not escaped breaks the query (MALFORMED_QUERY) instead of
 * changing it, as in Salesforce.
 */
export class SoqlError extends Error {
  constructor(
    readonly errorCode: 'MALFORMED_QUERY' | 'INVALID_FIELD' | 'INVALID_TYPE',
    message: string,
  ) {
    super(message);
  }
}

export type SoqlValue = string | number | boolean | null;

export interface SoqlCondition {
  field: string;
  op: '=' | '!=' | '<' | '<=' | '>' | '>=' | 'IN';
  value: SoqlValue | SoqlValue[];
}

export interface SoqlQuery {
  fields: string[];
  object: string;
  where: SoqlCondition[];
  orderBy?: { field: string; descending: boolean };
  limit?: number;
}

type Token = { kind: 'word' | 'string' | 'number' | 'symbol'; text: string; value?: SoqlValue };

const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', '"': '"', "'": "'", '\\': '\\' };

const tokenize = (text: string): Token[] => {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new SoqlError('MALFORMED_QUERY', 'unterminated string literal');
        const d = text[i] as string;
        if (d === "'") break;
        if (d === '\\') {
          const e = text[i + 1] as string;
          if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            value += String.fromCharCode(Number.parseInt(text.slice(i + 2, i + 6), 16));
            i += 6;
            continue;
          }
          const escaped = ESCAPES[e];
          if (escaped === undefined) throw new SoqlError('MALFORMED_QUERY', `invalid escape sequence \\${e}`);
          value += escaped;
          i += 2;
          continue;
        }
        value += d;
        i++;
      }
      i++;
      tokens.push({ kind: 'string', text: value, value });
    } else if (/[A-Za-z_]/.test(c)) {
      const match = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(text.slice(i)) as RegExpExecArray;
      tokens.push({ kind: 'word', text: match[0] });
      i += match[0].length;
    } else if (/[0-9-]/.test(c)) {
      const match = /^-?\d+(\.\d+)?/.exec(text.slice(i));
      if (!match) throw new SoqlError('MALFORMED_QUERY', `unexpected '${c}'`);
      tokens.push({ kind: 'number', text: match[0], value: Number(match[0]) });
      i += match[0].length;
    } else {
      const match = /^(!=|<=|>=|=|<|>|\(|\)|,)/.exec(text.slice(i));
      if (!match) throw new SoqlError('MALFORMED_QUERY', `unexpected '${c}'`);
      tokens.push({ kind: 'symbol', text: match[0] });
      i += match[0].length;
    }
  }
  return tokens;
};

export const parseSoql = (text: string): SoqlQuery => {
  const tokens = tokenize(text);
  let at = 0;
  const peek = () => tokens[at];
  const next = () => {
    const token = tokens[at++];
    if (!token) throw new SoqlError('MALFORMED_QUERY', 'unexpected end of query');
    return token;
  };
  const keyword = (word: string) => {
    const token = next();
    if (token.kind !== 'word' || token.text.toUpperCase() !== word) throw new SoqlError('MALFORMED_QUERY', `expected ${word} near '${token.text}'`);
  };
  const isKeyword = (word: string) => peek()?.kind === 'word' && peek()?.text.toUpperCase() === word;
  const field = () => {
    const token = next();
    if (token.kind !== 'word') throw new SoqlError('MALFORMED_QUERY', `expected a field near '${token.text}'`);
    return token.text;
  };
  const literal = (): SoqlValue => {
    const token = next();
    if (token.kind === 'string' || token.kind === 'number') return token.value as SoqlValue;
    if (token.kind === 'word' && /^(true|false|null)$/i.test(token.text))
      return token.text.toLowerCase() === 'null' ? null : token.text.toLowerCase() === 'true';
    throw new SoqlError('MALFORMED_QUERY', `unexpected token: '${token.text}'`);
  };

  keyword('SELECT');
  const fields = [field()];
  while (peek()?.text === ',') {
    next();
    fields.push(field());
  }
  keyword('FROM');
  const object = field();
  const where: SoqlCondition[] = [];
  if (isKeyword('WHERE')) {
    next();
    for (;;) {
      const name = field();
      const op = next();
      if (op.kind === 'word' && op.text.toUpperCase() === 'IN') {
        if (next().text !== '(') throw new SoqlError('MALFORMED_QUERY', 'expected ( after IN');
        const values = [literal()];
        while (peek()?.text === ',') {
          next();
          values.push(literal());
        }
        if (next().text !== ')') throw new SoqlError('MALFORMED_QUERY', 'expected ) after the IN list');
        where.push({ field: name, op: 'IN', value: values });
      } else if (op.kind === 'symbol' && ['=', '!=', '<', '<=', '>', '>='].includes(op.text)) {
        where.push({ field: name, op: op.text as SoqlCondition['op'], value: literal() });
      } else {
        throw new SoqlError('MALFORMED_QUERY', `unexpected token: '${op.text}'`);
      }
      if (!isKeyword('AND')) break;
      next();
    }
  }
  let orderBy: SoqlQuery['orderBy'];
  if (isKeyword('ORDER')) {
    next();
    keyword('BY');
    const by = field();
    let descending = false;
    if (isKeyword('ASC') || isKeyword('DESC')) descending = next().text.toUpperCase() === 'DESC';
    orderBy = { field: by, descending };
  }
  let limit: number | undefined;
  if (isKeyword('LIMIT')) {
    next();
    const token = next();
    if (token.kind !== 'number' || !Number.isInteger(token.value) || (token.value as number) < 0)
      throw new SoqlError('MALFORMED_QUERY', 'LIMIT takes a whole number');
    limit = token.value as number;
  }
  if (at < tokens.length) throw new SoqlError('MALFORMED_QUERY', `unexpected token: '${tokens[at]?.text}'`);
  return { fields, object, where, ...(orderBy ? { orderBy } : {}), ...(limit !== undefined ? { limit } : {}) };
};

const compare = (a: unknown, b: SoqlValue, caseInsensitive: boolean): number => {
  if (a === null || a === undefined) return b === null ? 0 : -1;
  if (b === null) return 1;
  const left = caseInsensitive && typeof a === 'string' ? a.toLowerCase() : a;
  const right = caseInsensitive && typeof b === 'string' ? b.toLowerCase() : b;
  return left === right ? 0 : (left as string) < (right as string) ? -1 : 1;
};

/** Whether a record meets every condition. Text compares case-insensitively, as SOQL does; Ids compare exactly. */
export const matches = (record: Record<string, unknown>, where: SoqlCondition[]): boolean =>
  where.every(({ field, op, value }) => {
    const exact = field === 'Id' || field.endsWith('Id');
    const actual = record[field];
    if (op === 'IN') return (value as SoqlValue[]).some((v) => compare(actual, v, !exact) === 0);
    const order = compare(actual, value as SoqlValue, !exact);
    if (op === '=') return order === 0;
    if (op === '!=') return order !== 0;
    if (actual === null || actual === undefined) return false;
    return op === '<' ? order < 0 : op === '<=' ? order <= 0 : op === '>' ? order > 0 : order >= 0;
  });
