import type { AuditStatus } from '../types.ts';

/** A status in words and colour (the word carries the meaning; the colour only helps). */
export const StatusBadge = ({ status }: { status: AuditStatus | string }) => <span class={`badge badge-${status}`}>{status}</span>;
