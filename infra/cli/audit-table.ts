import type { AuditEntry } from '#shared/sync/sync.ports.ts';

const COLUMNS = ['TIME', 'CONNECTOR', 'ACTION', 'STATUS', 'USER', 'TARGET ID', 'LATENCY'] as const;

const cells = (entry: AuditEntry): string[] => [
  entry.time,
  entry.connectorId,
  entry.action,
  entry.status,
  entry.name ?? entry.resourceId,
  entry.targetId ?? '-',
  entry.latencyMs === undefined ? '-' : `${entry.latencyMs} ms`,
];

/**
 * Audit records as a plain text table, one line each, columns padded to their widest cell:
 * time, connector, action, status, user (userName or displayName, else the hub id), target id
 * and latency. A failed entry's reason follows on an indented line.
 */
export const formatAuditTable = (entries: AuditEntry[]): string => {
  if (entries.length === 0) return 'no audit records match';
  const rows = entries.map(cells);
  const widths = COLUMNS.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (row: readonly string[]) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  const out = [line(COLUMNS)];
  entries.forEach((entry, index) => {
    out.push(line(rows[index] ?? []));
    const why = entry.error?.message ?? (entry.status === 'failed' || entry.status === 'dead-lettered' ? entry.reason : undefined);
    if (why) out.push(`    ${why}`);
  });
  return out.join('\n');
};
