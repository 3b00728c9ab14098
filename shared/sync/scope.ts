import type { ConnectorConfig } from '../connectors/connectors.schema.ts';
import { evaluateFilter, parseFilter } from '../scim/filter.ts';

/** Whether a connector's scope rules admit a hub user, and why not (temporary grants aside). */
export interface ScopeRulesVerdict {
  ok: boolean;
  reason?: string;
}

/**
 * A connector's scope rules over one hub user (pure): its SCIM filter, then its scoped groups,
 * given the ids of the groups the user is in. Real-time sync (the planner's `userScope`, which
 * adds temporary access grants on top) and reconciliation decide by this one rule, so a run
 * never provisions whom a change would not.
 */
export const scopeRules = (config: ConnectorConfig, user: Record<string, unknown>, groupIds: readonly string[]): ScopeRulesVerdict => {
  if (config.scope.filter && !evaluateFilter(parseFilter(config.scope.filter), user, 'User')) {
    return { ok: false, reason: `does not match the scope filter ${config.scope.filter}` };
  }
  if (config.scope.groups && !groupIds.some((id) => config.scope.groups?.includes(id))) return { ok: false, reason: 'is in none of the scoped groups' };
  return { ok: true };
};

/** Whether the connector needs a user's groups to decide its scope (so callers read them only then). */
export const scopeNeedsGroups = (config: ConnectorConfig): boolean => config.scope.groups !== undefined;
