import type { TargetAttributes } from '../connectors/connector.port.ts';
import { stableHash } from './stable-hash.ts';
import type { Link, LinkStore } from './sync.ports.ts';

/**
 * The link a reconciliation change plans with. A run's change carries what the target really
 * held when the run read it: the link's record of what was pushed is replaced by those values,
 * so the sync's minimal diff repairs drift made behind the hub's back; `absent` (the account is
 * gone from the target) forgets the link, so the sync matches or creates again. Real-time
 * changes carry nothing and keep the link as it is.
 *
 * This is the hook the planner calls where it reads the link; it is the only place the
 * reconciliation's observation enters the sync.
 */
export const observedLink = async (links: LinkStore, link: Link | undefined, observed: TargetAttributes | 'absent' | undefined): Promise<Link | undefined> => {
  if (!link || observed === undefined) return link;
  if (observed === 'absent') {
    await links.delete(link);
    return undefined;
  }
  return { ...link, pushed: observed, hash: stableHash(observed) };
};
