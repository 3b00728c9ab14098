/**
 * Reading one value out of a resource by a PATCH-style path (RFC 7644 section 3.5.2): what a
 * connector mapping's `source` names, and what an export column names. One reader, so a path
 * means the same thing wherever an operator writes it.
 */
import { compileValueFilter } from './filter.ts';
import { getIgnoringCase } from './json.ts';
import { parsePath } from './path.ts';
import { type ResourceTypeRef, resolveAttribute } from './schemas.ts';

/**
 * The value at `path` in `resource`, or undefined. `emails[type eq "work"].value` reads the first
 * matching element; `emails.value` (no filter) reads the primary element's value, else the first
 * one's (RFC 7643 section 2.4). A malformed path raises `invalidPath` or `invalidFilter`.
 */
export const readPath = (resource: Record<string, unknown>, text: string, resourceType: ResourceTypeRef = 'User'): unknown => {
  const path = parsePath(text);
  const holder = path.schema ? getIgnoringCase(resource, path.schema) : resource;
  let value = getIgnoringCase(holder, path.attribute);
  if (path.valueFilter) {
    if (!Array.isArray(value)) return undefined;
    const resolved = resolveAttribute(resourceType, { attribute: path.attribute, ...(path.schema ? { schema: path.schema } : {}) });
    if (!resolved) return undefined;
    const matches = compileValueFilter(path.valueFilter, resolved.attribute);
    value = value.find(matches);
  } else if (path.subAttribute && Array.isArray(value)) {
    value = (value as Array<Record<string, unknown>>).find((item) => item.primary === true) ?? value[0];
  }
  return path.subAttribute ? getIgnoringCase(value, path.subAttribute) : value;
};
