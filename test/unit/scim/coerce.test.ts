import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { coerceAttributeValue, coerceSingle, parseBooleanText, parseDateTime } from '../../../shared/scim/coerce.ts';
import { type AttributeDefinition, findAttribute } from '../../../shared/scim/schemas.ts';
import { scimErrorFrom, WIDGET_TYPE } from './scim-test-support.ts';

const widget = (name: string): AttributeDefinition => findAttribute(WIDGET_TYPE.schema.attributes, name)!;

describe('coerceSingle (RFC 7643 section 2.3)', () => {
  it.each<[string, unknown, unknown]>([
    ['label', 'Gear', 'Gear'],
    ['label', 42, '42'],
    ['label', null, undefined],
    ['flag', true, true],
    ['flag', 'False', false],
    ['flag', ' TRUE ', true],
    ['count', 7, 7],
    ['count', '-12', -12],
    ['count', ' 3 ', 3],
    ['ratio', 0.25, 0.25],
    ['ratio', '2.5e1', 25],
    ['ratio', '.5', 0.5],
    ['since', '2015-10-10T14:38:21.8617979-07:00', '2015-10-10T14:38:21.8617979-07:00'],
    ['since', '2024-02-29T10:00:00', '2024-02-29T10:00:00'],
    ['parts', { value: '3', WEIGHT: '1.5', unknown: 'dropped', primary: null }, { value: 3, weight: 1.5 }],
    ['parts', 4, { value: 4 }],
    ['parts', '5', { value: 5 }],
    ['parts', { primary: null }, undefined],
  ])('coerces %s %j to %j', (name, value, expected) => {
    // Act
    const coerced = coerceSingle(widget(name), value, name, []);

    // Assess
    expect(coerced).toEqual(expected);
  });

  it.each<[string, unknown, string]>([
    ['label', true, "'label' must be a string"],
    ['label', Number.NaN, "'label' must be a string"],
    ['label', { a: 1 }, "'label' must be a string"],
    ['flag', 'yes', "'flag' must be a boolean"],
    ['flag', 1, "'flag' must be a boolean"],
    ['count', 1.5, "'count' must be an integer"],
    ['count', '1.5', "'count' must be an integer"],
    ['count', '0x10', "'count' must be an integer"],
    ['count', '', "'count' must be an integer"],
    ['ratio', 'abc', "'ratio' must be a number"],
    ['ratio', Number.POSITIVE_INFINITY, "'ratio' must be a number"],
    ['since', 'yesterday', "'since' must be an xsd:dateTime"],
    ['since', '2015-13-45T99:99:99Z', "'since' must be an xsd:dateTime"],
    ['since', 1_700_000_000, "'since' must be an xsd:dateTime"],
    ['parts', [1], "'parts' must be an object"],
    ['parts', { value: 'x' }, "'parts.value' must be an integer"],
  ])('rejects %s %j with invalidValue', (name, value, detail) => {
    // Act
    const error = scimErrorFrom(() => coerceSingle(widget(name), value, name, []));

    // Assess
    expect(error).toMatchObject({ status: 400, scimType: 'invalidValue' });
    expect(error.message).toContain(detail);
  });

  it('reports unknown sub-attributes that carry data', () => {
    // Prepare
    const unknown: string[] = [];

    // Act
    coerceSingle(widget('parts'), { value: 1, colour: 'red', size: null }, 'parts', unknown);

    // Assess
    expect(unknown).toEqual(['parts.colour']);
  });
});

describe('coerceAttributeValue', () => {
  it('coerces each value of a multi-valued attribute and drops unassigned ones', () => {
    // Act
    const coerced = coerceAttributeValue(widget('parts'), [{ value: '1' }, null, { primary: null }, 2], 'parts', []);

    // Assess
    expect(coerced).toEqual([{ value: 1 }, { value: 2 }]);
  });

  it.each([[[]], [[null]], [null], [undefined]])('treats %j as unassigned', (value) => {
    // Act
    const coerced = coerceAttributeValue(widget('parts'), value, 'parts', []);

    // Assess
    expect(coerced).toBeUndefined();
  });

  it('reads one object given for a multi-valued complex attribute as a list of one (OneLogin)', () => {
    // Act
    const coerced = coerceAttributeValue(widget('parts'), { value: 1 }, 'parts', []);

    // Assess
    expect(coerced).toEqual(coerceAttributeValue(widget('parts'), [{ value: 1 }], 'parts', []));
  });

  it.each<[string, unknown]>([
    ['a string', 'one'],
    ['a number', 1],
    ['a boolean', true],
  ])('rejects a multi-valued attribute given %s', (_, value) => {
    // Act
    const error = scimErrorFrom(() => coerceAttributeValue(widget('parts'), value, 'parts', []));

    // Assess
    expect(error.message).toBe("'parts' is multi-valued, so its value must be an array");
  });

  it('rejects more than one primary value (RFC 7643 section 2.4)', () => {
    // Act
    const error = scimErrorFrom(() =>
      coerceAttributeValue(
        widget('parts'),
        [
          { value: 1, primary: true },
          { value: 2, primary: 'True' },
        ],
        'parts',
        [],
      ),
    );

    // Assess
    expect(error).toMatchObject({ scimType: 'invalidValue' });
    expect(error.message).toContain("Only one value of 'parts' may be primary");
  });

  it('coerces a single-valued attribute like coerceSingle', () => {
    // Act
    const coerced = coerceAttributeValue(widget('count'), '5', 'count', []);

    // Assess
    expect(coerced).toBe(5);
  });
});

describe('parseDateTime and parseBooleanText', () => {
  it.each<[unknown, number | undefined]>([
    ['2011-05-13T04:42:34Z', Date.UTC(2011, 4, 13, 4, 42, 34)],
    ['2011-05-13T06:42:34+02:00', Date.UTC(2011, 4, 13, 4, 42, 34)],
    ['2011-05-13t04:42:34.5z', Date.UTC(2011, 4, 13, 4, 42, 34, 500)],
    ['2011-05-13', undefined],
    ['hello 1', undefined],
    [20110513, undefined],
  ])('parses %j as %j', (value, expected) => {
    // Act
    const time = parseDateTime(value);

    // Assess
    expect(time).toBe(expected);
  });

  it('reads any ISO timestamp back to its instant', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }), (date) => {
        // Act
        const time = parseDateTime(date.toISOString());

        // Assess
        expect(time).toBe(date.getTime());
      }),
    );
  });

  it.each<[string, boolean | undefined]>([
    ['true', true],
    ['False', false],
    [' TRUE', true],
    ['yes', undefined],
    ['', undefined],
  ])('reads %j as %j', (text, expected) => {
    // Act
    const value = parseBooleanText(text);

    // Assess
    expect(value).toBe(expected);
  });
});
