import * as z from 'zod';
import type { ListQuery } from '#shared/directory/directory.service.ts';
import { scimErrors } from '#shared/scim/errors.ts';

const SEARCH_REQUEST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';

const commaList = z.union([
  z.array(z.string()),
  z.string().transform((value) =>
    value
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean),
  ),
]);

/** RFC 7644 section 3.4.3: the body of `POST /<endpoint>/.search`. */
const SearchRequestSchema = z.object({
  schemas: z.array(z.string()).refine((list) => list.includes(SEARCH_REQUEST_SCHEMA), `schemas must contain ${SEARCH_REQUEST_SCHEMA}`),
  attributes: commaList.optional(),
  excludedAttributes: commaList.optional(),
  filter: z.string().optional(),
  sortBy: z.string().optional(),
  sortOrder: z.enum(['ascending', 'descending']).optional(),
  startIndex: z.number().int().optional(),
  count: z.number().int().optional(),
  cursor: z.string().optional(),
});

export const parseSearchRequest = (body: unknown): ListQuery => {
  const parsed = SearchRequestSchema.safeParse(body);
  if (!parsed.success) {
    throw scimErrors.invalidSyntax(`Invalid SearchRequest: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
};
