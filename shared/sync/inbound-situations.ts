import type { TargetAccount } from '../connectors/connector.port.ts';
import type { ConnectorConfig } from '../connectors/connectors.schema.ts';
import { parseAttributeName } from '../scim/attribute-name.ts';
import { ScimError } from '../scim/errors.ts';
import { holds, mappingsOf, type ReconcileAction, type Situation } from './reconcile-situations.ts';
import type { Link } from './sync.ports.ts';
import { referenceTargets } from './user-references.ts';

/**
 * An inbound source's side of reconciliation (pure): a connector marked `"direction": "inbound"`
 * is read, not written. Each of its accounts becomes the hub user its mapping describes, read
 * backwards (target attribute -> hub attribute), and lands in the same named situations as an
 * outbound run: linked in sync or drifted (update the hub user), unlinked (a hub user with the
 * same userName: link it), unmatched (create it in the hub), collision; and a linked hub user
 * whose account left the source is `gone` (deactivated in the hub). The hub's directory use
 * cases carry the changes out, so the hub's stream provisions them to every other connector.
 */

type Json = Record<string, unknown>;

/** `emails[primary eq true].value`: the one value-path form a reverse mapping writes (as the primary item). */
const PRIMARY_VALUE = /^(\w+)\[primary eq true\]\.(\w+)$/;

/**
 * The hub user's attributes an account of the source stands for: each mapping from a hub
 * attribute, read backwards. The account's id is the user's `externalId` (the source is the
 * provisioning client, RFC 7643 section 3.1); computed mappings (constants, expressions, `id`)
 * have no way back and are skipped.
 */
export const inboundUserOf = (config: ConnectorConfig, account: TargetAccount): Json => {
  const user: Json = { externalId: account.id, active: account.attributes.active !== false };
  // A reference (the manager) holds the source's id of another account, never a hub id: not read back.
  const references = referenceTargets(mappingsOf(config));
  for (const mapping of mappingsOf(config)) {
    if (references.has(mapping.target)) continue;
    const source = mapping.source;
    const value = account.attributes[mapping.target];
    if (source === undefined || source === 'id' || source === 'externalId' || source === 'active' || value === undefined || value === null) continue;
    const primary = PRIMARY_VALUE.exec(source);
    if (primary) {
      user[primary[1] as string] = [{ [primary[2] as string]: value, primary: true }];
      continue;
    }
    if (source.includes('[')) continue;
    // An extension's attribute sits under its schema URN, whose dots are not path separators.
    let path: ReturnType<typeof parseAttributeName>;
    try {
      path = parseAttributeName(source, (detail) => new ScimError(400, 'invalidPath', detail));
    } catch {
      continue; // Not an attribute path (an expression): it has no way back.
    }
    const holder = path.schema === undefined ? user : ((user[path.schema] as Json | undefined) ?? {});
    if (path.subAttribute === undefined) holder[path.attribute] = value;
    else holder[path.attribute] = { ...(holder[path.attribute] as Json | undefined), [path.subAttribute]: value };
    if (path.schema !== undefined) user[path.schema] = holder;
  }
  return user;
};

/** The source's values the hub user lacks or holds otherwise: what an update sends. */
export const inboundDrift = (hubUser: Json, wanted: Json): Json =>
  Object.fromEntries(Object.entries(wanted).filter(([key, value]) => !holds(hubUser[key], value)));

export interface InboundVerdict {
  situation: Situation;
  /** `create`, `update` and `link` write the hub; `disable` deactivates the hub user. */
  action: ReconcileAction;
  hubId?: string;
  targetId?: string;
  /** The hub attributes to write: the whole user to create, or the drifted ones. */
  values?: Json;
  reason: string;
  collidesWith?: string[];
}

/** What the page handler read for one page of source accounts. */
export interface InboundPageFacts {
  accounts: readonly TargetAccount[];
  /** Source account id -> linked hub user id. */
  owners: ReadonlyMap<string, string>;
  /** Hub users by id: the owners and the candidates. */
  users: ReadonlyMap<string, Json>;
  /** Source account id -> hub user ids with the account's userName, for unlinked accounts. */
  candidates: ReadonlyMap<string, readonly string[]>;
  /**
   * The accounts carry only what changed (a change feed's round): an absent enabled state is
   * unchanged, not enabled. Absent attributes are unchanged in any case (drift compares what came).
   */
  partial?: boolean;
}

const updateOrInSync = (hubId: string, account: TargetAccount, user: Json, wanted: Json, situation: Situation, action: ReconcileAction): InboundVerdict => {
  const values = inboundDrift(user, wanted);
  const keys = Object.keys(values);
  if (keys.length === 0)
    return {
      situation: situation === 'unlinked' ? 'unlinked' : 'inSync',
      action: situation === 'unlinked' ? 'link' : 'none',
      hubId,
      targetId: account.id,
      reason: 'the hub holds what the source says',
    };
  const deactivates = keys.length === 1 && values.active === false;
  return {
    situation,
    action: situation === 'unlinked' ? 'link' : deactivates ? 'disable' : action,
    hubId,
    targetId: account.id,
    values,
    reason: `the source differs in ${keys.join(', ')}`,
  };
};

/** Classifies one page of a source's accounts against the hub. */
export const classifyInboundPage = (config: ConnectorConfig, facts: InboundPageFacts): InboundVerdict[] =>
  facts.accounts.map((account): InboundVerdict => {
    const wanted = inboundUserOf(config, account);
    if (facts.partial && account.attributes.active === undefined) delete wanted.active;
    const owner = facts.owners.get(account.id);
    const ownerUser = owner === undefined ? undefined : facts.users.get(owner);
    if (owner !== undefined && ownerUser) return updateOrInSync(owner, account, ownerUser, wanted, 'drifted', 'update');
    const found = [...new Set(facts.candidates.get(account.id) ?? [])];
    if (found.length > 1)
      return { situation: 'collision', action: 'none', targetId: account.id, collidesWith: found, reason: `${found.length} hub users have its userName` };
    const hubId = found[0];
    const user = hubId === undefined ? undefined : facts.users.get(hubId);
    if (hubId !== undefined && user) return updateOrInSync(hubId, account, user, wanted, 'unlinked', 'link');
    if (wanted.active === false) return { situation: 'unmatched', action: 'none', targetId: account.id, reason: 'inactive accounts are not created' };
    if (typeof wanted.userName !== 'string') return { situation: 'unmatched', action: 'none', targetId: account.id, reason: 'the account maps to no userName' };
    return {
      situation: 'unmatched',
      action: config.operations.create ? 'create' : 'none',
      targetId: account.id,
      values: wanted,
      reason: 'no hub user: create it',
    };
  });

/** Classifies the hub users linked to the source whose accounts no source page showed: gone, so deactivated. */
export const classifyInboundGone = (
  config: ConnectorConfig,
  facts: { users: ReadonlyArray<{ id: string; user: Json }>; links: ReadonlyMap<string, Link>; accounted: ReadonlySet<string> },
): InboundVerdict[] =>
  facts.users.flatMap((view): InboundVerdict[] => {
    const link = facts.links.get(view.id);
    if (!link || facts.accounted.has(view.id)) return [];
    if (view.user.active === false)
      return [{ situation: 'gone', action: 'none', hubId: view.id, targetId: link.targetId, reason: 'gone from the source; inactive already' }];
    return [
      {
        situation: 'gone',
        action: config.operations.disable ? 'disable' : 'none',
        hubId: view.id,
        targetId: link.targetId,
        values: { active: false },
        reason: 'the account is gone from the source: the hub user is deactivated',
      },
    ];
  });
