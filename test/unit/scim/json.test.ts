import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cloneJson, deepEqual, deleteIgnoringCase, findKey, getIgnoringCase, isPlainObject, isUnassigned, setIgnoringCase } from '../../../shared/scim/json.ts';

describe('case-insensitive access (RFC 7643 section 2.1)', () => {
  it('finds a key ignoring case, preferring the exact spelling', () => {
    // Prepare
    const object = { UserName: 'a', username: 'b', Other: 1 };

    // Act
    const keys = [findKey(object, 'username'), findKey(object, 'USERNAME'), findKey(object, 'other'), findKey(object, 'none')];

    // Assess
    expect(keys).toEqual(['username', 'UserName', 'Other', undefined]);
  });

  it('reads through getIgnoringCase, and nothing from non-objects', () => {
    // Act
    const values = [
      getIgnoringCase({ Name: 1 }, 'name'),
      getIgnoringCase({}, 'name'),
      getIgnoringCase([1], '0'),
      getIgnoringCase(null, 'a'),
      getIgnoringCase('s', 'length'),
    ];

    // Assess
    expect(values).toEqual([1, undefined, undefined, undefined, undefined]);
  });

  it('sets under the canonical name, dropping a differently cased key', () => {
    // Prepare
    const object: Record<string, unknown> = { UserName: 'a', title: 't' };

    // Act
    setIgnoringCase(object, 'userName', 'b');
    setIgnoringCase(object, 'title', 'u');
    setIgnoringCase(object, 'new', 1);

    // Assess
    expect(object).toEqual({ userName: 'b', title: 'u', new: 1 });
  });

  it('deletes ignoring case and tolerates a missing key', () => {
    // Prepare
    const object: Record<string, unknown> = { UserName: 'a' };

    // Act
    deleteIgnoringCase(object, 'username');
    deleteIgnoringCase(object, 'missing');

    // Assess
    expect(object).toEqual({});
  });
});

describe('isUnassigned (RFC 7643 section 2.5) and isPlainObject', () => {
  it.each<[unknown, boolean]>([
    [undefined, true],
    [null, true],
    [[], true],
    [[null, []], true],
    [{}, true],
    [{ a: null, b: [] }, true],
    ['', false],
    [0, false],
    [false, false],
    [[0], false],
    [{ a: { b: 'x' } }, false],
  ])('%j is unassigned: %s', (value, expected) => {
    // Act
    const result = isUnassigned(value);

    // Assess
    expect(result).toBe(expected);
  });

  it.each<[unknown, boolean]>([
    [{}, true],
    [[], false],
    [null, false],
    ['x', false],
  ])('%j is a plain object: %s', (value, expected) => {
    // Act
    const result = isPlainObject(value);

    // Assess
    expect(result).toBe(expected);
  });
});

describe('deepEqual and cloneJson', () => {
  it.each<[unknown, unknown, boolean]>([
    [{ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 }, true],
    [{ a: 1 }, { a: 1, b: undefined }, false],
    [{ a: 1, c: 2 }, { a: 1, b: 2 }, false],
    [[1, 2], [2, 1], false],
    [[1], [1, 1], false],
    [[1], { 0: 1 }, false],
    [{ 0: 1 }, [1], false],
    ['1', 1, false],
    [null, {}, false],
    [Number.NaN, Number.NaN, true],
  ])('%j equals %j: %s', (left, right, expected) => {
    // Act
    const result = deepEqual(left, right);

    // Assess
    expect(result).toBe(expected);
  });

  it('holds for a JSON value and its deep copy, which shares nothing', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        // Act
        const copy = cloneJson(value);

        // Assess
        expect(deepEqual(value, copy)).toBe(true);
        if (typeof value === 'object' && value !== null) expect(copy).not.toBe(value);
      }),
    );
  });

  it('agrees with JSON comparison of key-sorted serialisations', () => {
    const canonical = (value: unknown): string =>
      JSON.stringify(value, (_key, item) => (isPlainObject(item) ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : 1))) : item));
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), fc.jsonValue({ maxDepth: 3 }), (left, right) => {
        // Act
        const result = deepEqual(left, right);

        // Assess
        expect(result).toBe(canonical(left) === canonical(right));
      }),
    );
  });
});
