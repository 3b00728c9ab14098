import type { DeletionDrainStore, PendingDrain } from './directory.ports.ts';

/** How much one run of the drain may do, and when a drain counts as stopped. */
export const DRAIN_LIMITS = {
  /** Membership items read and deleted per page (one Query, then BatchWrites of 25). */
  membersPerPage: 1000,
  /**
   * Pages per run: 4 000 deletes, a few seconds of DynamoDB calls, whatever the group's size.
   * A run that leaves members moves the drain's cursor on, and that change runs the drain again.
   */
  pagesPerRun: 4,
  /** A drain that has not moved for this long lost its run (its stream record gave up): the sweep nudges it. */
  staleAfterMs: 10 * 60_000,
  /** Drains nudged per sweep. */
  sweepBatch: 100,
} as const;

export interface DeletionDrainDeps {
  drains: DeletionDrainStore;
  clock: () => Date;
  /** Smaller pages, to reach several runs with a small group (tests do). */
  limits?: Partial<Record<'membersPerPage' | 'pagesPerRun', number>>;
}

export interface DrainRun {
  /** Membership items of the deleted group removed by this run. */
  removedMembers: number;
  /** Memberships of the deleted resource in other groups removed by this run. */
  removedMemberships: number;
  finished: boolean;
}

/**
 * Removes the memberships of deleted resources after the DELETE answered. A DELETE removes the
 * resource, its guards and indexes in one transaction and leaves a drain beside it; this use
 * case runs on every change of a drain:
 * - a deleted group's membership items go a bounded number of pages per run, the cursor kept in
 *   the drain, so a 100 000-member group never needs one long Lambda, and a run killed half-way
 *   is run again from the cursor it last saved (deleting an item twice is a no-op);
 * - then the resource's own memberships in other groups are looked up again (gsi1 is eventually
 *   consistent: one added just before the delete may have been invisible to the DELETE itself);
 * - then the drain is removed.
 * `sweep` nudges drains whose run stopped (a stream record that exhausted its retries), so
 * every drain finishes.
 */
export const makeDeletionDrain = ({ drains, clock, limits }: DeletionDrainDeps) => {
  const now = () => clock().toISOString();
  const membersPerPage = limits?.membersPerPage ?? DRAIN_LIMITS.membersPerPage;
  const pagesPerRun = limits?.pagesPerRun ?? DRAIN_LIMITS.pagesPerRun;

  const run = async (drain: PendingDrain): Promise<DrainRun> => {
    let removedMembers = 0;
    if (drain.resourceType === 'Group') {
      let cursor = drain.cursor;
      for (let page = 0; page < pagesPerRun; page++) {
        const result = await drains.deleteMembersPage(drain.id, { limit: membersPerPage, cursor });
        removedMembers += result.removed;
        cursor = result.next;
        if (cursor === undefined) break;
      }
      if (cursor !== undefined) {
        // Moving the cursor is what runs the next part. A run that finds the drain moved on
        // already (a duplicate, or a nudge racing a run) stops here: the other one continues.
        await drains.advanceDrain(drain, cursor, now());
        return { removedMembers, removedMemberships: 0, finished: false };
      }
    }
    const removedMemberships = await drains.removeMemberships(drain.id, now());
    await drains.finishDrain(drain);
    return { removedMembers, removedMemberships, finished: true };
  };

  const sweep = async (): Promise<number> => {
    const stale = await drains.staleDrains(new Date(clock().getTime() - DRAIN_LIMITS.staleAfterMs).toISOString(), DRAIN_LIMITS.sweepBatch);
    for (const drain of stale) await drains.nudgeDrain(drain, now());
    return stale.length;
  };

  return { run, sweep };
};

export type DeletionDrain = ReturnType<typeof makeDeletionDrain>;
