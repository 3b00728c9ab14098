/**
 * The shapes the SCIM protocol modules share: an attribute path (RFC 7644 section 3.10) and a
 * filter's syntax tree (section 3.4.2.2). Types only, so the parser, the path reader and the
 * schemas can all name them without importing each other in a cycle.
 */

export interface AttributePath {
  /** The URN of an extension schema; absent for core and common attributes (a core URN prefix is dropped). */
  readonly schema?: string;
  readonly attribute: string;
  readonly subAttribute?: string;
  /** The filter between brackets, whose attribute paths name sub-attributes of `attribute`. */
  readonly valueFilter?: FilterNode;
}

export type CompareOperator = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';
export type CompareValue = string | number | boolean | null;

export type FilterNode =
  | { readonly op: 'and' | 'or'; readonly left: FilterNode; readonly right: FilterNode }
  | { readonly op: 'not'; readonly filter: FilterNode }
  | { readonly op: CompareOperator; readonly path: AttributePath; readonly value: CompareValue }
  | { readonly op: 'pr'; readonly path: AttributePath }
  | { readonly op: 'valuePath'; readonly path: AttributePath; readonly filter: FilterNode };
