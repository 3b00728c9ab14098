import type { DirectoryStore } from '../directory/directory.ports.ts';
import type { Directory } from '../directory/directory.service.ts';
import { ScimError } from '../scim/errors.ts';
import { PATCH_OP_SCHEMA } from '../scim/patch.ts';
import { USER_SCHEMA_ID } from '../scim/schemas.ts';
import type { InboundWriter } from './inbound-apply.ts';

/** Writes made on the hub's own behalf: no request URL to build `meta.location` from, unknown attributes ignored. */
const CONTEXT = { baseUrl: '', strictUnknownAttributes: false };

/**
 * An inbound source's writes, made through the directory's SCIM use cases (the same validation,
 * uniqueness guards and versioning as a SCIM request), so the table's stream carries them to
 * every outbound connector.
 */
export const inboundWriterOf = (directory: Directory, store: Pick<DirectoryStore, 'findIdByUnique'>): InboundWriter => ({
  create: async (values) => {
    try {
      const created = await directory.create('User', { schemas: [USER_SCHEMA_ID], ...values }, CONTEXT);
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
    await directory.patch('User', hubId, { schemas: [PATCH_OP_SCHEMA], Operations: [{ op: 'replace', value: values }] }, undefined, CONTEXT);
  },
});
