import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AttributePath, parsePath } from '../../../shared/scim/path.ts';
import { ENTERPRISE_USER_SCHEMA_ID } from '../../../shared/scim/schemas.ts';
import { scimErrorFrom } from './scim-test-support.ts';

const ENTERPRISE = ENTERPRISE_USER_SCHEMA_ID;

describe('parsePath (RFC 7644 section 3.5.2 PATH)', () => {
  it.each<[string, AttributePath]>([
    ['userName', { attribute: 'userName' }],
    ['  userName  ', { attribute: 'userName' }],
    ['name.givenName', { attribute: 'name', subAttribute: 'givenName' }],
    ['members.$ref', { attribute: 'members', subAttribute: '$ref' }],
    ['emails[type eq "work"].value', { attribute: 'emails', subAttribute: 'value', valueFilter: { op: 'eq', path: { attribute: 'type' }, value: 'work' } }],
    ['members[value eq "abc"]', { attribute: 'members', valueFilter: { op: 'eq', path: { attribute: 'value' }, value: 'abc' } }],
    ['emails[value eq "a]b"].type', { attribute: 'emails', subAttribute: 'type', valueFilter: { op: 'eq', path: { attribute: 'value' }, value: 'a]b' } }],
    ['emails[value eq "a\\"]"]', { attribute: 'emails', valueFilter: { op: 'eq', path: { attribute: 'value' }, value: 'a"]' } }],
    [`${ENTERPRISE}:manager`, { schema: ENTERPRISE, attribute: 'manager' }],
    [`${ENTERPRISE}:manager.value`, { schema: ENTERPRISE, attribute: 'manager', subAttribute: 'value' }],
    [`${ENTERPRISE.toUpperCase()}:department`, { schema: ENTERPRISE, attribute: 'department' }],
    ['urn:ietf:params:scim:schemas:core:2.0:User:name.familyName', { attribute: 'name', subAttribute: 'familyName' }],
    ['urn:ietf:params:scim:schemas:core:2.0:Group:displayName', { attribute: 'displayName' }],
    ['urn:example:vendor:1.0:User:badge.level', { schema: 'urn:example:vendor:1.0:User', attribute: 'badge', subAttribute: 'level' }],
  ])('parses %s', (text, expected) => {
    // Act
    const path = parsePath(text);

    // Assess
    expect(path).toEqual(expected);
  });

  it.each<[string, string]>([
    ['', 'empty'],
    ['   ', 'empty'],
    ['name.givenName.extra', 'not a valid attribute path'],
    ['1name', 'not a valid attribute path'],
    ['user name', 'not a valid attribute path'],
    [`${ENTERPRISE}:`, 'not a valid attribute path'],
    ['emails[type eq "work"', "without a matching ']'"],
    ['emails[value eq "]', "without a matching ']'"],
    ['name.givenName[type eq "x"]', 'not a sub-attribute'],
    ['emails[type eq "work"]value', "only have '.subAttribute'"],
    ['emails[type eq "work"].', "only have '.subAttribute'"],
    ['emails[type eq "work"].1x', "only have '.subAttribute'"],
    ['emails[type eq "work"].value.x', "only have '.subAttribute'"],
  ])('rejects %j as invalidPath', (text, detail) => {
    // Act
    const error = scimErrorFrom(() => parsePath(text));

    // Assess
    expect(error).toMatchObject({ status: 400, scimType: 'invalidPath' });
    expect(error.message).toContain(detail);
  });

  it.each([
    ['emails[type eq]', 'Expected a value'],
    ['emails[]', 'empty'],
    ['emails[type eq "a" and]', 'Expected an attribute path'],
    ['emails[addresses[type eq "x"]]', 'cannot be nested'],
  ])('reports a malformed filter between brackets in %j as invalidFilter (RFC 7644 table 9)', (text, detail) => {
    // Act
    const error = scimErrorFrom(() => parsePath(text));

    // Assess
    expect(error).toMatchObject({ status: 400, scimType: 'invalidFilter' });
    expect(error.message).toContain(detail);
  });

  it('parses any attribute.subAttribute built from valid names', () => {
    const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,20}$/);
    fc.assert(
      fc.property(name, name, (attribute, subAttribute) => {
        // Act
        const path = parsePath(`${attribute}.${subAttribute}`);

        // Assess
        expect(path).toEqual({ attribute, subAttribute });
      }),
    );
  });

  it('parses any string literal in a value filter back to the same value', () => {
    fc.assert(
      fc.property(fc.string(), (value) => {
        // Act
        const path = parsePath(`emails[value eq ${JSON.stringify(value)}].type`);

        // Assess
        expect(path.valueFilter).toEqual({ op: 'eq', path: { attribute: 'value' }, value });
        expect(path.subAttribute).toBe('type');
      }),
    );
  });
});
