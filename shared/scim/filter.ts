/**
 * SCIM filters, RFC 7644 section 3.4.2.2: a tokenizer (filter.tokenizer.ts) and a parser to an AST
 * (filter.parser.ts), an evaluator with the RFC's matching rules (filter.evaluator.ts), and an index
 * planner for the store (filter.index-planner.ts). This module is their public face.
 *
 * Our own small recursive-descent parser rather than an npm SCIM filter package: those mis-handle
 * URN-qualified attribute paths (whose URNs contain both ':' and '.') and give no AST we can use to
 * plan index lookups.
 *
 * Grammar accepted (precedence not > and > or, all keywords case-insensitive):
 *
 *     filter   = or
 *     or       = and *("or" and)
 *     and      = unary *("and" unary)
 *     unary    = "not" unary / primary
 *     primary  = "(" filter ")" / attrPath "[" filter "]" / attrPath "pr" / attrPath compareOp compValue
 *
 * Two leniencies beyond the RFC's ABNF, both for real clients: `not` may be followed by any
 * expression, not only a parenthesised one; and a compValue may be a bare word (`externalId eq
 * jyoung`), which Microsoft documents and its reference test suite sends (`userName sw O`,
 * `meta.created gt 2015-10-10T14:38:21.8617979-07:00`). A bare word is `true`, `false`, `null`, a
 * JSON number that survives a round trip, or else a string.
 */
export {
  assertKnownToSomeType,
  type CompileOptions,
  compileFilter,
  compileValueFilter,
  evaluateFilter,
  neverMatches,
  validateFilter,
} from './filter.evaluator.ts';
export { type IndexableEquality, type IndexedAttribute, indexableEquality } from './filter.index-planner.ts';
export { parseFilter, parseValueFilter } from './filter.parser.ts';
export type { CompareOperator, CompareValue, FilterNode } from './scim.types.ts';
