import type { DirectoryStore } from '../directory/directory.ports.ts';
import type { Directory } from '../directory/directory.service.ts';
import { ScimError } from '../scim/errors.ts';
import { PATCH_OP_SCHEMA } from '../scim/patch.ts';
import { GROUP_SCHEMA_ID, USER_SCHEMA_ID } from '../scim/schemas.ts';
import { type InboundWriter, NotOursError } from './inbound-apply.ts';

/** Members changed per PATCH: a PATCH of a hub group carries at most this many (the directory's own limit is larger). */
const MEMBERS_PER_PATCH = 1_000;

const patchOf = (Operations: unknown[]) => ({ schemas: [PATCH_OP_SCHEMA], Operations });

/** Writes made on the hub's own behalf: no request URL to build `meta.location` from, unknown attributes ignored. */
const CONTEXT = { baseUrl: '', strictUnknownAttributes: false };

/**
 * An inbound source's writes, made through the directory's SCIM use cases (the same validation,
 * uniqueness guards and versioning as a SCIM request), so the table's stream carries them to
 * every outbound connector.
 */
export const inboundWriterOf = (directory: Directory, store: Pick<DirectoryStore, 'findIdByUnique' | 'get'>): InboundWriter => ({
  create: async (values) => {
    try {
      // Extension attributes sit under their schema's URN, which `schemas` must name (RFC 7643 section 3).
      const extensions = Object.keys(values).filter((key) => key.startsWith('urn:'));
      const created = await directory.create('User', { schemas: [USER_SCHEMA_ID, ...extensions], ...values }, CONTEXT);
      return String(created.resource.id);
    } catch (error) {
      // The userName is taken: by the user this page made before a crash (its link write was lost).
      if (!(error instanceof ScimError && error.scimType === 'uniqueness') || typeof values.userName !== 'string') throw error;
      const id = await store.findIdByUnique('User', { attribute: 'userName', value: values.userName.normalize('NFC').toLowerCase() });
      if (id === undefined) throw error;
      return id;
    }
  },
  update: async (hubId, values) => {
    await directory.patch('User', hubId, patchOf([{ op: 'replace', value: values }]), undefined, CONTEXT);
  },
  createGroup: async (values) => {
    try {
      const created = await directory.create('Group', { schemas: [GROUP_SCHEMA_ID], ...values }, CONTEXT);
      return String(created.resource.id);
    } catch (error) {
      if (!(error instanceof ScimError && error.scimType === 'uniqueness') || typeof values.displayName !== 'string') throw error;
      // The name is taken: by the group this source made before a crash (its externalId says so), or by one from elsewhere.
      const id = await store.findIdByUnique('Group', { attribute: 'displayName', value: values.displayName.normalize('NFC').toLowerCase() });
      const existing = id === undefined ? undefined : await store.get('Group', id);
      if (!existing || existing.data.externalId !== values.externalId)
        throw new NotOursError(`the hub has a group named "${values.displayName}" from elsewhere`);
      return existing.id;
    }
  },
  updateGroup: async (hubId, values) => {
    await directory.patch('Group', hubId, patchOf([{ op: 'replace', value: values }]), undefined, CONTEXT);
  },
  deleteGroup: async (hubId) => {
    try {
      await directory.delete('Group', hubId, undefined);
    } catch (error) {
      // Gone already is what we wanted (a page run again).
      if (!(error instanceof ScimError && error.status === 404)) throw error;
    }
  },
  changeMembers: async (hubId, add, remove) => {
    // Minimal adds and removes (RFC 7644 section 3.5.2), never a replace of the whole list.
    for (let start = 0; start < add.length; start += MEMBERS_PER_PATCH) {
      const value = add.slice(start, start + MEMBERS_PER_PATCH).map((id) => ({ value: id }));
      await directory.patch('Group', hubId, patchOf([{ op: 'add', path: 'members', value }]), undefined, CONTEXT);
    }
    for (let start = 0; start < remove.length; start += MEMBERS_PER_PATCH) {
      const operations = remove.slice(start, start + MEMBERS_PER_PATCH).map((id) => ({ op: 'remove', path: `members[value eq "${id}"]` }));
      await directory.patch('Group', hubId, patchOf(operations), undefined, CONTEXT);
    }
  },
});
