import type { AccessGrant } from '#shared/sync/grant.ports.ts';
import type { OnDemandResult } from '#shared/sync/on-demand.service.ts';

const show = (value: unknown): string => (value === undefined ? '(none)' : typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value));

/** An on-demand provisioning result as people read it on a terminal: steps, the diff, the outcome. */
export const formatOnDemandResult = (result: OnDemandResult): string => {
  const { resource, outcome } = result;
  const lines = [
    `${result.dryRun ? 'DRY RUN: nothing was changed. ' : ''}${resource.type.toLowerCase()} ${resource.name ?? resource.id} (${resource.id}) on ${result.connectorId}${result.situation ? `: ${result.situation}` : ''}`,
    '',
    'steps:',
    ...result.steps.map((step, index) => `  ${index + 1}. ${step}`),
  ];
  if (result.calls.length > 0) {
    lines.push('', result.dryRun ? 'target calls it would make:' : 'target calls:');
    for (const call of result.calls)
      lines.push(`  ${call.operation}${call.targetId ? ` ${call.targetId}` : ''}${call.attributes?.length ? ` (${call.attributes.join(', ')})` : ''}`);
  }
  if (result.changes.length > 0) {
    lines.push('', 'changes:');
    const width = Math.max(...result.changes.map((c) => c.attribute.length));
    for (const change of result.changes) lines.push(`  ${change.attribute.padEnd(width)}  ${show(change.old)} -> ${show(change.new)}`);
  }
  lines.push(
    '',
    `outcome: ${outcome.action} ${outcome.status}${outcome.targetId ? ` (target ${outcome.targetId})` : ''}${outcome.reason ? `: ${outcome.reason}` : ''}`,
  );
  if (outcome.collidesWith) lines.push(`  the account is linked to hub user ${outcome.collidesWith}`);
  if (result.grant)
    lines.push(`temporary access ${result.dryRun ? 'would last' : 'lasts'} until ${result.grant.expiresAt}; then the hub deprovisions by itself`);
  if (result.revokedGrant) lines.push(`temporary access until ${result.revokedGrant.expiresAt} ${result.dryRun ? 'would be' : 'was'} revoked`);
  lines.push(`took ${result.durationMs} ms`);
  return lines.join('\n');
};

/** Grants as a table: connector, user, until, granted. */
export const formatGrants = (grants: AccessGrant[], now: Date): string => {
  if (grants.length === 0) return 'no temporary access grants';
  const rows = grants.map((g) => [
    g.connectorId,
    g.userName ?? '-',
    g.userId,
    g.expiresAt,
    Date.parse(g.expiresAt) <= now.getTime() ? 'ended' : 'live',
    g.grantedAt,
  ]);
  const header = ['CONNECTOR', 'USER', 'ID', 'UNTIL', 'STATE', 'GRANTED'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [header, ...rows]
    .map((row) =>
      row
        .map((cell, i) => (cell ?? '').padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
};
