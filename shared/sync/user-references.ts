import type { TargetAttributes } from '../connectors/connector.port.ts';
import type { AttributeMapping } from '../connectors/connectors.schema.ts';
import { parsePath } from '../scim/path.ts';
import { readPath } from '../scim/read-path.ts';
import { ENTERPRISE_USER_SCHEMA_ID } from '../scim/schemas.ts';

type Json = Record<string, unknown>;

/**
 * References from one hub user to another, as a connector's mapping carries them. The hub's
 * enterprise `manager.value` (RFC 7643 section 4.3) holds the manager's HUB id, which no target
 * knows: before a plan compares or sends it, the sync engine puts the manager's account id on
 * that target in its place, read from the connector's user link of the manager. A manager the
 * target has no account for (not provisioned yet, or out of scope) is left out: the attribute is
 * unset, and set once the manager's link exists and the report is synced again (its next change,
 * or the connector's next reconciliation run).
 */

/** Whether a mapping's source reads the hub user's manager: enterprise `manager.value`, or the whole `manager`. */
const readsManager = (source: string): boolean => {
  try {
    const path = parsePath(source);
    return (
      path.attribute.toLowerCase() === 'manager' &&
      (path.schema === undefined || path.schema.toLowerCase() === ENTERPRISE_USER_SCHEMA_ID.toLowerCase()) &&
      (path.subAttribute === undefined || path.subAttribute.toLowerCase() === 'value') &&
      path.valueFilter === undefined
    );
  } catch {
    return false;
  }
};

/** The mappings whose target attribute holds a hub user reference (the manager). */
export const referenceMappings = (mappings: readonly AttributeMapping[]): AttributeMapping[] =>
  mappings.filter((mapping) => mapping.source !== undefined && readsManager(mapping.source));

/** The target attributes that hold a hub user reference. */
export const referenceTargets = (mappings: readonly AttributeMapping[]): Set<string> => new Set(referenceMappings(mappings).map((m) => m.target));

/** A reference as the hub holds it: the id itself, or `{ "value": id }`. */
const hubIdOf = (value: unknown): string | undefined => {
  const id = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json).value : value;
  return typeof id === 'string' && id !== '' ? id : undefined;
};

/** The hub user ids the user's mapped references name (its manager), without the user itself. */
export const referencedUserIds = (user: Json, userId: string, mappings: readonly AttributeMapping[]): string[] => [
  ...new Set(
    referenceMappings(mappings).flatMap((mapping) => {
      const id = hubIdOf(readPath(user, mapping.source as string, 'User'));
      return id !== undefined && id !== userId ? [id] : [];
    }),
  ),
];

/** One reference the target has no account for yet. */
export interface UnresolvedReference {
  attribute: string;
  hubId: string;
}

/**
 * The mapped attributes with each hub user reference put as the target's id of that user
 * (`targetIdOf`), in the shape the hub held it (an id, or `{ value }`). A reference whose user
 * has no account on the target is left out, and named in `unresolved`.
 */
export const resolveUserReferences = (
  mapped: TargetAttributes,
  mappings: readonly AttributeMapping[],
  targetIdOf: (hubId: string) => string | undefined,
): { attributes: TargetAttributes; unresolved: UnresolvedReference[] } => {
  const attributes = { ...mapped };
  const unresolved: UnresolvedReference[] = [];
  for (const target of referenceTargets(mappings)) {
    if (!(target in attributes)) continue;
    const value = attributes[target];
    const hubId = hubIdOf(value);
    const targetId = hubId === undefined ? undefined : targetIdOf(hubId);
    if (targetId === undefined) {
      delete attributes[target];
      if (hubId !== undefined) unresolved.push({ attribute: target, hubId });
      continue;
    }
    attributes[target] = value !== null && typeof value === 'object' ? { value: targetId } : targetId;
  }
  return { attributes, unresolved };
};

/**
 * What the target holds, for comparison: a reference the target's listing does not report (Entra
 * lists users without their manager) stands as last pushed, so it is compared with the link's
 * record rather than seen as drift on every run.
 */
export const withUnreportedReferences = (actual: TargetAttributes, pushed: TargetAttributes, mappings: readonly AttributeMapping[]): TargetAttributes => {
  const filled = { ...actual };
  for (const target of referenceTargets(mappings)) if (!(target in actual) && target in pushed) filled[target] = pushed[target];
  return filled;
};
