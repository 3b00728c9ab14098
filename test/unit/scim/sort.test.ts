import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ENTERPRISE_USER_SCHEMA_ID, type ResourceTypeRef } from '../../../shared/scim/schemas.ts';
import { compareBy, parseSortOrder, type SortOrder } from '../../../shared/scim/sort.ts';
import { scimErrorFrom, WIDGET_EXTENSION, WIDGET_TYPE } from './scim-test-support.ts';

const ENTERPRISE = ENTERPRISE_USER_SCHEMA_ID;

type Resource = Record<string, unknown>;

const sortIds = (resources: Resource[], sortBy: string, order: SortOrder, type: ResourceTypeRef = 'User'): unknown[] =>
  [...resources].sort(compareBy(sortBy, order, type)).map((resource) => resource.id);

describe('compareBy (RFC 7644 section 3.4.2.3)', () => {
  const users: Resource[] = [
    { id: 'u-3', userName: 'charlie', title: 'b', emails: [{ value: 'z@x.com' }, { value: 'a@x.com', primary: true }] },
    { id: 'u-1', userName: 'Alice', emails: [{ value: 'm@x.com' }, { value: 'b@x.com' }], meta: { created: '2024-01-01T01:00:00+02:00' } },
    { id: 'u-2', userName: 'bob', title: 'a', externalId: 'B', meta: { created: '2024-01-01T00:00:00Z' }, [ENTERPRISE]: { department: 'X' } },
    { id: 'u-4', userName: 'BOB', externalId: 'a', active: true, meta: { created: 'not a date' } },
  ];

  it.each<[string, SortOrder, string[]]>([
    ['userName', 'ascending', ['u-1', 'u-2', 'u-4', 'u-3']],
    ['userName', 'descending', ['u-3', 'u-4', 'u-2', 'u-1']],
    ['USERNAME', 'ascending', ['u-1', 'u-2', 'u-4', 'u-3']],
    ['externalId', 'ascending', ['u-2', 'u-4', 'u-1', 'u-3']],
    ['title', 'ascending', ['u-2', 'u-3', 'u-1', 'u-4']],
    ['title', 'descending', ['u-4', 'u-1', 'u-3', 'u-2']],
    ['emails', 'ascending', ['u-3', 'u-1', 'u-2', 'u-4']],
    ['emails.value', 'ascending', ['u-3', 'u-1', 'u-2', 'u-4']],
    ['meta.created', 'ascending', ['u-1', 'u-2', 'u-3', 'u-4']],
    ['active', 'descending', ['u-3', 'u-2', 'u-1', 'u-4']],
    [`${ENTERPRISE}:department`, 'ascending', ['u-2', 'u-1', 'u-3', 'u-4']],
  ])('sorts by %s %s', (sortBy, order, expected) => {
    // Act
    const ids = sortIds(users, sortBy, order);

    // Assess
    expect(ids).toEqual(expected);
  });

  it('sorts numbers numerically and booleans false first', () => {
    // Prepare
    const widgets: Resource[] = [
      { id: 'w-1', count: 10, flag: true, parts: [{ value: 2 }], [WIDGET_EXTENSION]: { size: 3 } },
      { id: 'w-2', count: 9, flag: false, parts: [{ value: 1 }, { value: 30, primary: true }] },
      { id: 'w-3', count: '8', flag: 'false' },
    ];

    // Act
    const results = [
      sortIds(widgets, 'count', 'ascending', WIDGET_TYPE),
      sortIds(widgets, 'flag', 'ascending', WIDGET_TYPE),
      sortIds(widgets, 'parts.value', 'ascending', WIDGET_TYPE),
      sortIds(widgets, `${WIDGET_EXTENSION}:size`, 'descending', WIDGET_TYPE),
    ];

    // Assess
    expect(results).toEqual([
      ['w-2', 'w-1', 'w-3'],
      ['w-2', 'w-1', 'w-3'],
      ['w-1', 'w-2', 'w-3'],
      ['w-3', 'w-2', 'w-1'],
    ]);
  });

  it('sorts case-exact strings by code point', () => {
    // Prepare
    const widgets: Resource[] = [
      { id: 'w-1', code: 'b' },
      { id: 'w-2', code: 'B' },
      { id: 'w-3', code: 'a' },
    ];

    // Act
    const ids = sortIds(widgets, 'code', 'ascending', WIDGET_TYPE);

    // Assess
    expect(ids).toEqual(['w-2', 'w-3', 'w-1']);
  });

  it.each<[string, string]>([
    ['nope', "sortBy 'nope' is not an attribute of User"],
    ['name', "sortBy 'name' is complex"],
    ['emails[type eq "work"].value', 'is not an attribute of User'],
    ['name..givenName', 'is not an attribute of User'],
    [`${ENTERPRISE}:manager.nope`, 'is not an attribute of User'],
  ])('rejects sortBy %s with invalidValue', (sortBy, detail) => {
    // Act
    const error = scimErrorFrom(() => compareBy(sortBy, 'ascending', 'User'));

    // Assess
    expect(error).toMatchObject({ status: 400, scimType: 'invalidValue' });
    expect(error.message).toContain(detail);
  });

  it('is a total order: antisymmetric, and descending is the exact reverse of ascending', () => {
    const resource = fc.record(
      {
        id: fc.option(fc.string({ maxLength: 3 }), { nil: undefined }),
        userName: fc.option(fc.string({ maxLength: 3 }), { nil: undefined }),
      },
      { requiredKeys: [] },
    );
    const ascending = compareBy('userName', 'ascending', 'User');
    const descending = compareBy('userName', 'descending', 'User');

    fc.assert(
      fc.property(resource, resource, (left, right) => {
        // Act
        const [forward, backward, reversed] = [ascending(left, right), ascending(right, left), descending(left, right)];

        // Assess
        expect(Math.sign(forward)).toBe(0 - Math.sign(backward));
        expect(Math.sign(reversed)).toBe(0 - Math.sign(forward));
      }),
    );
  });
});

describe('parseSortOrder', () => {
  it.each<[string | undefined, SortOrder]>([
    [undefined, 'ascending'],
    ['', 'ascending'],
    ['ascending', 'ascending'],
    ['Descending', 'descending'],
    [' DESCENDING ', 'descending'],
  ])('reads %j as %s', (text, expected) => {
    // Act
    const order = parseSortOrder(text);

    // Assess
    expect(order).toBe(expected);
  });

  it('rejects anything else with invalidValue', () => {
    // Act
    const error = scimErrorFrom(() => parseSortOrder('up'));

    // Assess
    expect(error).toMatchObject({ status: 400, scimType: 'invalidValue' });
    expect(error.message).toContain("not 'up'");
  });
});
