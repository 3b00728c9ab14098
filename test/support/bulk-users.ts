import type { scimClient } from './local-hub.ts';

const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

/**
 * Creates users through the hub's /Bulk, `size` operations per request, and returns their hub ids
 * in the order of `userNames`. A request that fails as a whole (a 5xx: on a loaded machine a bulk
 * request can outlast API Gateway's 29 s, though its operations went on) is sent again, as an IdP
 * would; a user the lost attempt had created answers 409 and is found by its userName.
 */
export const bulkCreateUsers = async (api: ReturnType<typeof scimClient>, userNames: string[], size = 25): Promise<string[]> => {
  const ids: string[] = [];
  for (let start = 0; start < userNames.length; start += size) {
    const names = userNames.slice(start, start + size);
    for (let attempt = 1; ; attempt++) {
      const answer = await api.post('/Bulk', {
        schemas: [BULK],
        Operations: names.map((userName, i) => ({ method: 'POST', bulkId: `u${i}`, path: '/Users', data: { schemas: [USER], userName } })),
      });
      if (answer.status >= 500 && attempt < 4) continue;
      if (answer.status !== 200) throw new Error(`bulk create answered ${answer.status}: ${answer.text.slice(0, 300)}`);
      for (const [i, operation] of (answer.json.Operations as Array<{ status: string; location?: string }>).entries()) {
        if (operation.status === '201') ids.push(String(operation.location?.split('/').pop()));
        else if (operation.status === '409' && attempt > 1) ids.push(await idOf(api, names[i] as string));
        else throw new Error(`bulk create of ${names[i]} answered ${operation.status}`);
      }
      break;
    }
  }
  return ids;
};

const idOf = async (api: ReturnType<typeof scimClient>, userName: string): Promise<string> => {
  const found = await api.get(`/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`);
  const id = found.json?.Resources?.[0]?.id;
  if (typeof id !== 'string') throw new Error(`${userName} answered 409 but cannot be found`);
  return id;
};
