import type { LinkKind } from './sync.ports.ts';

/**
 * Every link a membership delta of `groupId` reads: the group's own, and for each member its
 * membership link and its account link (a member who left needs only the first; reading the
 * second too costs nothing more in the same batch).
 */
export const linkRefsOfMembers = (groupId: string, memberIds: string[]): Array<{ kind: LinkKind; hubId: string }> => [
  { kind: 'group', hubId: groupId },
  ...memberIds.flatMap((memberId) => [
    { kind: 'membership' as const, hubId: `${groupId}#${memberId}` },
    { kind: 'user' as const, hubId: memberId },
  ]),
];
