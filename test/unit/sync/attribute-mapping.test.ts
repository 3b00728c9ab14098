import { describe, expect, it } from 'vitest';
import { DEFAULT_MAPPINGS, mapUser } from '../../../shared/sync/attribute-mapping.ts';
import { diffAttributes } from '../../../shared/sync/sync.service.ts';

const ada = {
  id: 'u1',
  userName: 'ada@example.com',
  active: true,
  name: { givenName: 'Ada', familyName: 'Lovelace' },
  emails: [
    { value: 'ada@home.example', type: 'home' },
    { value: 'ada@example.com', type: 'work', primary: true },
  ],
  'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'Engines', manager: { value: 'm1' } },
};

describe('mapUser', () => {
  it.each([
    ['a plain attribute', { target: 'login', source: 'userName' }, 'ada@example.com'],
    ['a sub-attribute', { target: 'first', source: 'name.givenName' }, 'Ada'],
    ['a value filter', { target: 'mail', source: 'emails[type eq "home"].value' }, 'ada@home.example'],
    ['the primary value of a multi-valued attribute', { target: 'mail', source: 'emails.value' }, 'ada@example.com'],
    ['an extension attribute', { target: 'dept', source: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department' }, 'Engines'],
    ['an extension sub-attribute', { target: 'boss', source: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value' }, 'm1'],
    ['a constant', { target: 'type', constant: 'Employee' }, 'Employee'],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the mapping expression syntax is `${path}`.
    ['an expression', { target: 'display', expression: '${name.givenName} ${name.familyName}' }, 'Ada Lovelace'],
  ])('maps %s', (_, mapping, expected) => {
    const [key] = [mapping.target];
    expect(mapUser(ada, [{ apply: 'always', ...mapping }], 'update')[key]).toEqual(expected);
  });

  it('leaves out attributes without a value, and create-only mappings on update', () => {
    const mapped = mapUser(
      ada,
      [
        { target: 'nick', source: 'nickName', apply: 'always' },
        { target: 'welcome', constant: true, apply: 'create' },
      ],
      'update',
    );
    expect(mapped).toEqual({});
    expect(mapUser(ada, [{ target: 'welcome', constant: true, apply: 'create' }], 'create')).toEqual({ welcome: true });
  });

  it('maps the default SCIM attributes with the hub id as externalId', () => {
    expect(mapUser(ada, DEFAULT_MAPPINGS.scim, 'create')).toMatchObject({
      userName: 'ada@example.com',
      externalId: 'u1',
      active: true,
      'name.givenName': 'Ada',
    });
  });

  it('maps the default Cognito attributes with the primary email', () => {
    expect(mapUser(ada, DEFAULT_MAPPINGS.cognito, 'create')).toEqual({
      username: 'ada@example.com',
      email: 'ada@example.com',
      given_name: 'Ada',
      family_name: 'Lovelace',
      active: true,
    });
  });
});

describe('diffAttributes', () => {
  it('sets only what changed and clears what disappeared, but keeps create-only attributes', () => {
    const change = diffAttributes(
      { userName: 'a', 'name.givenName': 'Ada', title: 'Countess', welcome: true, emails: [{ value: 'a@x' }] },
      { userName: 'a', 'name.givenName': 'Augusta', emails: [{ value: 'a@x' }] },
      new Set(['welcome']),
    );
    expect(change).toEqual({ set: { 'name.givenName': 'Augusta' }, unset: ['title'] });
  });

  it('finds no change when only key order differs inside a value', () => {
    expect(diffAttributes({ emails: [{ value: 'a@x', type: 'work' }] }, { emails: [{ type: 'work', value: 'a@x' }] }, new Set())).toEqual({
      set: {},
      unset: [],
    });
  });
});
