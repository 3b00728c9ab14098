import { isAttributeRequested, project } from '../scim/projection.ts';
import type { DirectoryStore, ResourceRecord, ScimJson } from './directory.ports.ts';
import { type DirectoryLimits, HUB_GROUP_EXTENSION, type Projection, type RequestContext } from './directory.types.ts';
import { ENDPOINTS, toScimResource } from './scim-resource.mapper.ts';

/** In a search over several types each resource says which it is, whatever the projection. */
export const withResourceType = (resource: ScimJson, record: ResourceRecord): ScimJson => {
  const meta = (resource.meta ?? {}) as ScimJson;
  return meta.resourceType === undefined ? { ...resource, meta: { ...meta, resourceType: record.resourceType } } : resource;
};

/**
 * An upper bound of what one member costs in a Lambda response: its JSON in the body, with the
 * quotes escaped again in the envelope, for a member id as long as the hub's (a UUID) and the
 * longer of the two reference forms.
 */
const memberResponseBytes = (baseUrl: string): number => {
  const id = '00000000-0000-0000-0000-000000000000';
  const member = JSON.stringify({ value: id, $ref: `${baseUrl}/Groups/${id}`, type: 'Group' });
  return Buffer.byteLength(JSON.stringify(member), 'utf8') - 2 + 1;
};

/**
 * Records as SCIM resources: derived attributes (a user's groups, a group's members) loaded
 * only when they will be returned, and member lists kept within the response budget.
 */
export const makeRepresentation = ({ store, limits }: { store: DirectoryStore; limits: DirectoryLimits }) => {
  const allMemberIds = async (groupId: string): Promise<string[]> => {
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.members(groupId, { limit: 1000, cursor });
      ids.push(...page.items.map((member) => member.value));
      cursor = page.next;
    } while (cursor);
    return ids;
  };

  /** The representation with derived attributes, loading them only when they will be returned. */
  const represent = async (record: ResourceRecord, projection: Projection, ctx: RequestContext, membersFit = true): Promise<ScimJson> => {
    const resource = toScimResource(record, ctx.baseUrl);
    if (record.resourceType === 'User' && isAttributeRequested(projection, 'groups', 'User')) {
      const groupIds = await store.groupIdsOf(record.id);
      if (groupIds.length > 0) {
        const groups = await store.getMany('Group', groupIds);
        resource.groups = groups.map((group) => ({
          value: group.id,
          $ref: `${ctx.baseUrl}/Groups/${group.id}`,
          display: group.data.displayName,
          type: 'direct',
        }));
      }
    }
    if (record.resourceType === 'Group') {
      const memberCount = record.memberCount ?? 0;
      if (memberCount > limits.maxInlineMembers || (!membersFit && memberCount > 0 && isAttributeRequested(projection, 'members', 'Group'))) {
        resource.schemas = [...(resource.schemas as string[]), HUB_GROUP_EXTENSION];
        resource[HUB_GROUP_EXTENSION] = { memberCount, membersOmitted: true };
      } else if (memberCount > 0 && isAttributeRequested(projection, 'members', 'Group')) {
        const members: ScimJson[] = [];
        let cursor: string | undefined;
        do {
          const page = await store.members(record.id, { limit: 1000, cursor });
          for (const member of page.items) {
            members.push({ value: member.value, $ref: `${ctx.baseUrl}/${ENDPOINTS[member.type]}/${member.value}`, type: member.type });
          }
          cursor = page.next;
        } while (cursor);
        resource.members = members;
      }
    }
    return project(resource, projection, record.resourceType);
  };

  /**
   * A page of resources within the response budget: groups whose member lists would take the
   * page past `memberBytesPerResponse` are returned without members (and say so), in page order.
   */
  const representPage = (records: ResourceRecord[], projection: Projection, ctx: RequestContext): Promise<ScimJson[]> => {
    const perMember = memberResponseBytes(ctx.baseUrl);
    let left = limits.memberBytesPerResponse;
    const fits = records.map((record) => {
      const memberCount = record.memberCount ?? 0;
      if (record.resourceType !== 'Group' || memberCount === 0 || memberCount > limits.maxInlineMembers) return true;
      const cost = memberCount * perMember;
      if (cost > left) return false;
      left -= cost;
      return true;
    });
    return Promise.all(records.map((record, index) => represent(record, projection, ctx, fits[index])));
  };

  return { represent, representPage, allMemberIds };
};

export type Representation = ReturnType<typeof makeRepresentation>;
