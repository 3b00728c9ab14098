/**
 * Exporting users or groups: pages of the directory's own list use case (the SCIM filter,
 * `attributes`, cursor paging of RFC 9865), written out as they arrive, so an export of any size
 * holds one page in memory. CSV goes through csv-stringify, with a UTF-8 BOM and CRLF so Excel
 * opens it as it is; JSON is one array; NDJSON one resource a line. Passwords are never
 * returned by the directory (RFC 7643 section 4.1.1: `returned: never`), so never exported.
 */
import { stringify } from 'csv-stringify';
import type { Directory } from '../directory/directory.service.ts';
import type { ResourceType, ScimJson } from '../directory/directory.ports.ts';
import { ENTERPRISE_USER_SCHEMA_ID } from '../scim/schemas.ts';
import { formatAttributeName } from '../scim/attribute-name.ts';
import { parsePath } from '../scim/path.ts';
import { readPath } from '../scim/read-path.ts';
import { GROUPS_COLUMN, GROUPS_SEPARATOR } from './import-mapping.ts';
import type { TransferFormat } from './transfer.types.ts';

export interface ExportRequest {
  type: ResourceType;
  format: TransferFormat;
  filter?: string;
  /** Attribute paths; for CSV, the columns in order. */
  attributes?: string[];
  /** Resources per page read from the directory (at most its maxResults). */
  pageSize?: number;
}

/** The CSV columns when none are asked for: what a spreadsheet of users or groups usually holds. */
export const DEFAULT_CSV_COLUMNS: Record<ResourceType, string[]> = {
  User: [
    'id',
    'userName',
    'externalId',
    'displayName',
    'name.givenName',
    'name.familyName',
    'title',
    'emails[type eq "work"].value',
    'phoneNumbers[type eq "work"].value',
    'active',
    `${ENTERPRISE_USER_SCHEMA_ID}:employeeNumber`,
    `${ENTERPRISE_USER_SCHEMA_ID}:department`,
    GROUPS_COLUMN,
  ],
  Group: ['id', 'displayName', 'externalId'],
};

const cellOf = (resource: ScimJson, column: string, type: ResourceType): unknown => {
  if (type === 'User' && column.toLowerCase() === GROUPS_COLUMN) {
    const groups = Array.isArray(resource.groups) ? (resource.groups as ScimJson[]) : [];
    return groups
      .map((group) => group.display)
      .filter((name): name is string => typeof name === 'string')
      .join(GROUPS_SEPARATOR);
  }
  const value = readPath(resource, column, type);
  if (value === undefined || value === null) return '';
  return typeof value === 'object' ? JSON.stringify(value) : value;
};

/** What the directory is asked for: the top-level attributes behind the columns (`groups` included). */
const requestedAttributes = (columns: string[]): string[] => [
  ...new Set(
    columns.map((column) => {
      if (column.toLowerCase() === GROUPS_COLUMN) return GROUPS_COLUMN;
      const { schema, attribute } = parsePath(column);
      return formatAttributeName({ attribute, ...(schema === undefined ? {} : { schema }) });
    }),
  ),
];

/** The resources the request selects, page by page. */
async function* resources(directory: Directory, request: ExportRequest, attributes: string[] | undefined): AsyncGenerator<ScimJson[]> {
  let cursor = '';
  const ctx = { baseUrl: '', strictUnknownAttributes: false };
  do {
    const page = await directory.list(
      request.type,
      {
        cursor,
        count: request.pageSize ?? 1000,
        ...(request.filter ? { filter: request.filter } : {}),
        ...(attributes ? { attributes } : {}),
      },
      ctx,
    );
    yield (page.Resources as ScimJson[]).map(({ meta: _meta, ...resource }) => resource);
    cursor = typeof page.nextCursor === 'string' ? page.nextCursor : '';
  } while (cursor !== '');
}

/**
 * The export as text chunks, in order: pipe them into a file or an upload. Counts resources
 * into `progress` as pages arrive.
 */
export async function* exportResources(directory: Directory, request: ExportRequest, progress?: (exported: number) => void): AsyncGenerator<string> {
  let exported = 0;
  if (request.format === 'csv') {
    const columns = request.attributes ?? DEFAULT_CSV_COLUMNS[request.type];
    const csv = stringify({ bom: true, header: true, columns, record_delimiter: 'windows', cast: { boolean: (value) => (value ? 'true' : 'false') } });
    const attributes = requestedAttributes(columns);
    const pump = (async () => {
      try {
        for await (const page of resources(directory, request, attributes)) {
          for (const resource of page) {
            const row = columns.map((column) => cellOf(resource, column, request.type));
            if (!csv.write(row)) await new Promise((resolve) => csv.once('drain', resolve));
          }
          exported += page.length;
          progress?.(exported);
        }
        csv.end();
      } catch (error) {
        csv.destroy(error as Error);
      }
    })();
    for await (const text of csv) yield String(text);
    await pump;
    return;
  }
  if (request.format === 'json') yield '[';
  let first = true;
  for await (const page of resources(directory, request, request.attributes)) {
    const lines = page.map((resource) => JSON.stringify(resource));
    if (lines.length > 0) {
      yield request.format === 'json' ? `${first ? '\n' : ',\n'}${lines.join(',\n')}` : `${lines.join('\n')}\n`;
      first = false;
    }
    exported += page.length;
    progress?.(exported);
  }
  if (request.format === 'json') yield first ? ']\n' : '\n]\n';
}
