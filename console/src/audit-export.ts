import type { AdminApi, Query } from './api.ts';
import { redactRecord, toCsv } from './audit-format.ts';
import type { AuditPage } from './types.ts';

export type ExportFormat = 'csv' | 'json';

/** Records per request while exporting: the admin API's largest page. */
const EXPORT_PAGE = 500;

/**
 * The whole filtered set, not one page: walks the admin API's cursor to the end, turning each
 * page into its part of the file as it arrives, so memory holds the file's text and one page of
 * records. `onProgress` hears the count after each page; `signal` stops between pages.
 */
export const exportAudit = async (
  api: AdminApi,
  filters: Query,
  format: ExportFormat,
  onProgress: (records: number) => void,
  signal?: AbortSignal,
): Promise<Blob> => {
  const parts: string[] = format === 'json' ? ['['] : [];
  let cursor: string | undefined;
  let count = 0;
  do {
    signal?.throwIfAborted();
    const page = await api.get<AuditPage>('/audit', { ...filters, limit: String(EXPORT_PAGE), cursor });
    if (format === 'csv') parts.push(toCsv(page.items, count === 0));
    else for (const [i, record] of page.items.entries()) parts.push(`${count + i === 0 ? '' : ','}\n${JSON.stringify(redactRecord(record))}`);
    count += page.items.length;
    onProgress(count);
    cursor = page.nextCursor;
  } while (cursor);
  if (format === 'csv' && count === 0) parts.push(toCsv([], true));
  if (format === 'json') parts.push('\n]\n');
  return new Blob(parts, { type: format === 'csv' ? 'text/csv;charset=utf-8' : 'application/json' });
};

/** Hands a file to the browser's download. */
export const download = (blob: Blob, name: string): void => {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has taken its copy once click() returns.
  setTimeout(() => URL.revokeObjectURL(url), 0);
};
