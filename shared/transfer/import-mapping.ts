/**
 * What each column of an import file means. A header names a SCIM attribute by its PATCH path
 * (`userName`, `name.givenName`, `emails[type eq "work"].value`, an enterprise attribute with its
 * URN), or one of two import columns: `groups` (`;`-separated group displayNames) and `password`
 * (hashed like a SCIM password). A mapping file renames other headers to those, or ignores them.
 */
import * as z from 'zod';
import { AppError } from '../errors.ts';
import { ScimError } from '../scim/errors.ts';
import { parsePath } from '../scim/path.ts';
import { resolveAttribute } from '../scim/schemas.ts';

/** `{"columns": {"E-mail": "emails[type eq \"work\"].value", "Notes": null}}`: null ignores a column. */
export const ImportMappingSchema = z.object({ columns: z.record(z.string(), z.string().min(1).nullable()) }).strict();
export type ImportMapping = z.infer<typeof ImportMappingSchema>;

export const GROUPS_COLUMN = 'groups';
export const PASSWORD_COLUMN = 'password';
/** How the `groups` column separates displayNames (a displayName with `;` cannot be named in CSV). */
export const GROUPS_SEPARATOR = ';';

export type ColumnPlan =
  | { kind: 'attribute'; header: string; path: string }
  | { kind: 'groups'; header: string }
  | { kind: 'password'; header: string }
  | { kind: 'ignored'; header: string };

/** A file whose columns cannot be read at all (a malformed path): nothing of it is imported. */
export class ImportFileError extends AppError {
  constructor(message: string) {
    super('transfer.invalidFile', message);
  }
}

/** Server-owned attributes an export writes and an import leaves to the hub. */
const SERVER_OWNED = new Set(['id', 'meta', 'schemas']);

/**
 * The plan for each header, in order, and the warnings the operator should see once: columns
 * ignored because no attribute answers to them. A malformed path stops the import before any
 * row is read (ImportFileError), since every row would be read wrongly.
 */
export const planColumns = (headers: string[], mapping: ImportMapping | undefined): { columns: ColumnPlan[]; warnings: string[] } => {
  const warnings: string[] = [];
  const seen = new Map<string, string>();
  const columns = headers.map((raw): ColumnPlan => {
    const header = raw.trim();
    const mapped = mapping && Object.hasOwn(mapping.columns, header) ? mapping.columns[header] : header;
    if (mapped === null || mapped === undefined || mapped === '') {
      if (mapped === undefined || mapped === '') warnings.push(`column '${header}' has no name: ignored`);
      return { kind: 'ignored', header };
    }
    const lower = mapped.toLowerCase();
    const earlier = seen.get(lower);
    if (earlier !== undefined) throw new ImportFileError(`columns '${earlier}' and '${header}' both set ${mapped}`);
    seen.set(lower, header);
    if (lower === GROUPS_COLUMN) return { kind: 'groups', header };
    if (lower === PASSWORD_COLUMN) return { kind: 'password', header };
    let path: ReturnType<typeof parsePath>;
    try {
      path = parsePath(mapped);
    } catch (error) {
      if (error instanceof ScimError) throw new ImportFileError(`column '${header}': ${error.message}`);
      throw error;
    }
    if (path.schema === undefined && SERVER_OWNED.has(path.attribute.toLowerCase())) {
      warnings.push(`column '${header}': ${path.attribute} is the hub's own: ignored`);
      return { kind: 'ignored', header };
    }
    if (resolveAttribute('User', path) === undefined) {
      warnings.push(`column '${header}': no User attribute ${mapped}: ignored`);
      return { kind: 'ignored', header };
    }
    return { kind: 'attribute', header, path: mapped };
  });
  return { columns, warnings };
};
