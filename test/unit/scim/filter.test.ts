import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ScimError } from '../../../shared/scim/errors.ts';
import {
  assertKnownToSomeType,
  type CompareValue,
  compileFilter,
  compileValueFilter,
  evaluateFilter,
  type FilterNode,
  type IndexableEquality,
  indexableEquality,
  neverMatches,
  parseFilter,
  validateFilter,
} from '../../../shared/scim/filter.ts';
import { ENTERPRISE_USER_SCHEMA_ID, GROUP_SCHEMA, type ResourceTypeRef, USER_SCHEMA } from '../../../shared/scim/schemas.ts';
import { scimErrorFrom, WIDGET_EXTENSION, WIDGET_TYPE } from './scim-test-support.ts';

const ENTERPRISE = ENTERPRISE_USER_SCHEMA_ID;

const eq = (attribute: string, value: CompareValue, subAttribute?: string): FilterNode => ({
  op: 'eq',
  path: { attribute, ...(subAttribute ? { subAttribute } : {}) },
  value,
});
const pr = (attribute: string): FilterNode => ({ op: 'pr', path: { attribute } });

describe('parseFilter (RFC 7644 section 3.4.2.2)', () => {
  it.each<[string, FilterNode]>([
    ['userName eq "bjensen"', eq('userName', 'bjensen')],
    ['USERNAME EQ "x"', eq('USERNAME', 'x')],
    ['name.familyName co "O\'Malley"', { op: 'co', path: { attribute: 'name', subAttribute: 'familyName' }, value: "O'Malley" }],
    ['userName sw "J"', { op: 'sw', path: { attribute: 'userName' }, value: 'J' }],
    ['userName ew "n"', { op: 'ew', path: { attribute: 'userName' }, value: 'n' }],
    ['title ne "Boss"', { op: 'ne', path: { attribute: 'title' }, value: 'Boss' }],
    ['title pr', pr('title')],
    ['title PR', pr('title')],
    ['meta.lastModified gt "2011-05-13T04:42:34Z"', { op: 'gt', path: { attribute: 'meta', subAttribute: 'lastModified' }, value: '2011-05-13T04:42:34Z' }],
    ['count ge 1', { op: 'ge', path: { attribute: 'count' }, value: 1 }],
    ['count lt -2.5', { op: 'lt', path: { attribute: 'count' }, value: -2.5 }],
    ['count le 1e3', { op: 'le', path: { attribute: 'count' }, value: '1e3' }],
    ['active eq true', eq('active', true)],
    ['active eq false', eq('active', false)],
    ['title eq null', eq('title', null)],
    ['displayName eq "a\\"b\\u00e9\\n"', eq('displayName', 'a"bé\n')],
    ['externalId eq jyoung', eq('externalId', 'jyoung')],
    ['externalId eq 12345', eq('externalId', 12345)],
    ['externalId eq 12345678901234567890', eq('externalId', '12345678901234567890')],
    ['externalId eq 007', eq('externalId', '007')],
    ['active eq True', eq('active', 'True')],
    [
      'meta.Created gt 2015-10-10T14:38:21.8617979-07:00',
      { op: 'gt', path: { attribute: 'meta', subAttribute: 'Created' }, value: '2015-10-10T14:38:21.8617979-07:00' },
    ],
    [`${ENTERPRISE}:manager.value eq "x"`, { op: 'eq', path: { schema: ENTERPRISE, attribute: 'manager', subAttribute: 'value' }, value: 'x' }],
    ['urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x"', eq('userName', 'x')],
    ['userName\teq\n"x"', eq('userName', 'x')],
  ])('parses %s', (text, expected) => {
    // Act
    const node = parseFilter(text);

    // Assess
    expect(node).toEqual(expected);
  });

  it.each<[string, FilterNode]>([
    ['a pr or b pr and c pr', { op: 'or', left: pr('a'), right: { op: 'and', left: pr('b'), right: pr('c') } }],
    ['a pr and b pr or c pr', { op: 'or', left: { op: 'and', left: pr('a'), right: pr('b') }, right: pr('c') }],
    ['a pr and b pr and c pr', { op: 'and', left: { op: 'and', left: pr('a'), right: pr('b') }, right: pr('c') }],
    ['(a pr or b pr) and c pr', { op: 'and', left: { op: 'or', left: pr('a'), right: pr('b') }, right: pr('c') }],
    ['not (a pr)', { op: 'not', filter: pr('a') }],
    ['NOT(a pr)', { op: 'not', filter: pr('a') }],
    ['not a pr and b pr', { op: 'and', left: { op: 'not', filter: pr('a') }, right: pr('b') }],
    ['not not a pr', { op: 'not', filter: { op: 'not', filter: pr('a') } }],
    ['a pr AnD b pr Or c pr', { op: 'or', left: { op: 'and', left: pr('a'), right: pr('b') }, right: pr('c') }],
    ['((a pr))', pr('a')],
  ])('applies precedence not > and > or: %s', (text, expected) => {
    // Act
    const node = parseFilter(text);

    // Assess
    expect(node).toEqual(expected);
  });

  it.each<[string, FilterNode]>([
    [
      'emails[type eq "work" and value co "@example.com"]',
      {
        op: 'valuePath',
        path: { attribute: 'emails' },
        filter: { op: 'and', left: eq('type', 'work'), right: { op: 'co', path: { attribute: 'value' }, value: '@example.com' } },
      },
    ],
    [
      'emails[type eq "work"] and userName pr',
      { op: 'and', left: { op: 'valuePath', path: { attribute: 'emails' }, filter: eq('type', 'work') }, right: pr('userName') },
    ],
    ['not emails[type eq "work"]', { op: 'not', filter: { op: 'valuePath', path: { attribute: 'emails' }, filter: eq('type', 'work') } }],
    ['emails[not (type eq "work")]', { op: 'valuePath', path: { attribute: 'emails' }, filter: { op: 'not', filter: eq('type', 'work') } }],
  ])('parses the value path %s', (text, expected) => {
    // Act
    const node = parseFilter(text);

    // Assess
    expect(node).toEqual(expected);
  });

  it.each<[string, string]>([
    ['', 'The filter is empty'],
    ['   ', 'The filter is empty'],
    ['userName', "Expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr) after 'userName' but found the end of the filter"],
    ['userName xx "a"', "after 'userName' but found 'xx' at character 10"],
    ['userName "a"', "after 'userName' but found the string at character 10"],
    ['userName eq', "Expected a value after 'eq' but found the end of the filter"],
    ['userName eq and', "Expected a value after 'eq' but found 'and'"],
    ['userName eq ("a")', "Expected a value after 'eq' but found '(' at character 13"],
    ['userName eq "a', 'The string starting at character 13 is not closed'],
    ['userName eq "\\q"', 'The string starting at character 13 has an invalid escape sequence'],
    ['(userName eq "a"', "Expected ')' to close the '(' at character 1 but found the end of the filter"],
    ['userName eq "a")', "Unexpected ')' at character 16"],
    ['userName eq "a" userName eq "b"', "Unexpected 'userName' at character 17"],
    ['emails[type eq "work"', "Expected ']' to close the '[' at character 7"],
    ['emails[type eq "work")', "Expected ']' to close the '[' at character 7 but found ')'"],
    ['emails[type[value eq "x"] eq "y"]', 'Value filters cannot be nested'],
    ['name.givenName[value eq "x"]', "must follow an attribute, not the sub-attribute 'name.givenName'"],
    ['emails[type eq "work"].value.x eq "x"', 'names a sub-attribute of a sub-attribute'],
    ['emails[type eq "work"].value', 'Expected an operator'],
    ['userName eq "a" and', 'Expected an attribute path or'],
    ['and userName eq "a"', "Expected an attribute path or '(' but found 'and'"],
    ['not', 'found the end of the filter'],
    ['()', "Expected an attribute path or '(' but found ')'"],
    ['1abc eq "x"', "'1abc' is not a valid attribute path"],
    ['a.b.c eq "x"', "'a.b.c' is not a valid attribute path"],
    [`${'('.repeat(60)}a pr${')'.repeat(60)}`, 'nested more than 50 levels deep'],
    [`${'not '.repeat(60)}a pr`, 'nested more than 50 levels deep'],
    [Array.from({ length: 1001 }, (_, index) => `a eq ${index}`).join(' or '), 'more than 1000 comparisons'],
  ])('rejects %j with invalidFilter', (text, detail) => {
    // Act
    const error = scimErrorFrom(() => parseFilter(text));

    // Assess
    expect(error).toMatchObject({ status: 400, scimType: 'invalidFilter' });
    expect(error.message).toContain(detail);
  });

  it('parses and evaluates a chain of 1000 comparisons', () => {
    // Prepare
    const text = Array.from({ length: 1000 }, (_, index) => `userName eq "u${index}"`).join(' or ');

    // Act
    const result = evaluateFilter(parseFilter(text), { userName: 'U999' }, 'User');

    // Assess
    expect(result).toBe(true);
  });

  it('parses back what a formatter prints, for any filter tree', () => {
    const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,8}$/).filter((text) => !['and', 'or', 'not'].includes(text.toLowerCase()));
    const value = fc.oneof(fc.string(), fc.boolean(), fc.constant(null), fc.integer());
    const comparison = fc.record({
      op: fc.constantFrom('eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'),
      path: fc.record({ attribute: name }),
      value,
    });
    const presence = fc.record({ op: fc.constant('pr'), path: fc.record({ attribute: name }) });
    const tree = fc.letrec<{ node: FilterNode }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        comparison as fc.Arbitrary<FilterNode>,
        presence as fc.Arbitrary<FilterNode>,
        fc.record({ op: fc.constantFrom('and', 'or'), left: tie('node'), right: tie('node') }) as fc.Arbitrary<FilterNode>,
        fc.record({ op: fc.constant('not'), filter: tie('node') }) as fc.Arbitrary<FilterNode>,
      ),
    })).node;
    const format = (node: FilterNode): string => {
      switch (node.op) {
        case 'and':
        case 'or':
          return `(${format(node.left)} ${node.op} ${format(node.right)})`;
        case 'not':
          return `not (${format(node.filter)})`;
        case 'pr':
          return `${node.path.attribute} pr`;
        case 'valuePath':
          return `${node.path.attribute}[${format(node.filter)}]`;
        default:
          return `${node.path.attribute} ${node.op} ${JSON.stringify(node.value)}`;
      }
    };

    fc.assert(
      fc.property(tree, (node) => {
        // Act
        const parsed = parseFilter(format(node));

        // Assess
        expect(parsed).toEqual(node);
      }),
    );
  });

  it('either parses or raises invalidFilter, whatever the input', () => {
    const piece = fc.constantFrom('a', 'b.c', 'eq', 'pr', 'and', 'or', 'not', '(', ')', '[', ']', '"x"', '"', '\\', ' ', '1', 'true', 'urn:x:y:z');
    const text = fc.oneof(
      fc.string(),
      fc.array(piece, { maxLength: 12 }).map((pieces) => pieces.join(' ')),
    );

    fc.assert(
      fc.property(text, (input) => {
        // Act
        let outcome: unknown;
        try {
          outcome = parseFilter(input);
        } catch (error) {
          outcome = error;
        }

        // Assess
        if (outcome instanceof Error) expect(outcome).toMatchObject({ scimType: 'invalidFilter', status: 400 });
        else expect(outcome).toHaveProperty('op');
        expect(outcome instanceof Error ? outcome instanceof ScimError : true).toBe(true);
      }),
    );
  });
});

const USER = {
  schemas: [USER_SCHEMA.id, ENTERPRISE],
  id: 'u-1',
  externalId: 'Ext-1',
  userName: 'bjensen',
  name: { givenName: 'Barbara', familyName: "O'Malley" },
  nickName: '',
  active: true,
  emails: [
    { value: 'bjensen@example.com', type: 'work', primary: true },
    { value: 'babs@home.example.org', type: 'home' },
  ],
  phoneNumbers: [],
  meta: { created: '2020-01-01T00:30:00+01:00', lastModified: '2021-06-01T12:00:00Z' },
  [ENTERPRISE]: { department: 'R&D', manager: { value: 'boss-1', displayName: 'The Boss' } },
};

const GROUP = {
  schemas: [GROUP_SCHEMA.id],
  id: 'g-1',
  displayName: 'Admins',
  members: [
    { value: 'u-1', type: 'User' },
    { value: 'u-2', type: 'User' },
  ],
};

const matches = (filter: string, resource: Record<string, unknown>, type: ResourceTypeRef = 'User') => evaluateFilter(parseFilter(filter), resource, type);

describe('evaluateFilter', () => {
  it.each<[string, boolean]>([
    ['userName eq "BJENSEN"', true],
    ['UserName Eq "bjensen"', true],
    ['userName eq "jensen"', false],
    ['id eq "u-1"', true],
    ['id eq "U-1"', false],
    ['externalId eq "Ext-1"', true],
    ['externalId eq "ext-1"', false],
    ['emails.value eq "BJENSEN@EXAMPLE.COM"', true],
    ['emails co "HOME.EXAMPLE"', true],
    ['emails.type eq "home"', true],
    ['emails.type eq "other"', false],
    ['emails[type eq "work" and value co "@example.com"]', true],
    ['emails[type eq "home" and value co "@example.com"]', false],
    ['emails[primary eq true]', true],
    ['not emails[type eq "other"]', true],
    ['title ne "Boss"', true],
    ['userName ne "bjensen"', false],
    ['emails.type ne "work"', false],
    ['title pr', false],
    ['nickName pr', false],
    ['phoneNumbers pr', false],
    ['emails pr', true],
    ['name pr', true],
    ['emails.display pr', false],
    ['userName sw "BJ"', true],
    ['userName ew "SEN"', true],
    ['userName co "jen"', true],
    ['userName gt "bb"', true],
    ['userName ge "bjensen"', true],
    ['userName lt "bjensen"', false],
    ['userName le "bjensen"', true],
    ['title eq null', true],
    ['userName eq null', false],
    ['title ne null', false],
    ['userName ne null', true],
    ['active eq true', true],
    ['active eq "True"', true],
    ['active eq false', false],
    ['active ne false', true],
    // 2020-01-01T00:30:00+01:00 is 2019-12-31T23:30:00Z: chronological, not lexical, ordering.
    ['meta.created gt "2019-12-31T23:45:00Z"', false],
    ['meta.created lt "2019-12-31T23:45:00Z"', true],
    ['meta.created eq "2019-12-31T23:30:00.000Z"', true],
    ['meta.Created gt 2015-10-10T14:38:21.8617979-07:00', true],
    ['meta.lastModified ge "2021-06-01T12:00:00Z"', true],
    ['meta.lastModified le "2021-06-01T11:59:59Z"', false],
    ['meta.created co "2020-01"', true],
    [`${ENTERPRISE}:department eq "r&d"`, true],
    [`${ENTERPRISE}:manager.value eq "boss-1"`, true],
    [`${ENTERPRISE}:manager eq "boss-1"`, true],
    [`${ENTERPRISE}:manager pr`, true],
    [`${ENTERPRISE}:manager[value eq "boss-1"]`, true],
    [`${ENTERPRISE}:costCenter pr`, false],
    // Extension attributes without their URN (Entra ID), and manager compared by its value.
    ['department eq "R&D"', true],
    ['manager eq "boss-1"', true],
    ['manager.value eq "boss-2"', false],
    ['costCenter pr', false],
    // A value path followed by a sub-attribute (Entra ID's uniqueness queries): one value satisfies both.
    ['emails[type eq "work"].value eq "bjensen@example.com"', true],
    ['emails[type eq "home"].value eq "bjensen@example.com"', false],
    ['emails[type eq "work"].value co "EXAMPLE"', true],
    ['emails[type eq "work"].primary eq true', true],
    ['emails[type eq "work"].display pr', false],
    ['userName eq "bjensen" and active eq false', false],
    ['userName eq "nobody" or active eq true', true],
    ['not (userName eq "bjensen")', false],
    ['name.FamilyName eq "o\'malley" and (emails.Value co example.com or emails.Value co example.org)', true],
  ])('%s on a User is %s', (filter, expected) => {
    // Act
    const result = matches(filter, USER);

    // Assess
    expect(result).toBe(expected);
  });

  it.each<[string, boolean]>([
    ['displayName eq "admins"', true],
    ['members.value eq "u-2"', true],
    ['members eq "U-2"', false],
    ['members[value eq "u-1" and type eq "user"]', true],
    ['members[value eq "u-3"]', false],
  ])('%s on a Group is %s', (filter, expected) => {
    // Act
    const result = matches(filter, GROUP, 'Group');

    // Assess
    expect(result).toBe(expected);
  });

  it('reads attribute names in the resource ignoring case', () => {
    // Prepare
    const resource = { UserName: 'bjensen', EMAILS: [{ VALUE: 'a@example.com' }] };

    // Act
    const byName = matches('userName eq "bjensen"', resource);
    const bySub = matches('emails.value eq "a@example.com"', resource);

    // Assess
    expect([byName, bySub]).toEqual([true, true]);
  });

  it('does not match values of the wrong type or shape', () => {
    // Prepare
    const odd = { userName: 42, emails: ['not-an-object'], meta: { created: 'yesterday' }, active: 'true' };

    // Act
    const results = [
      matches('userName eq "42"', odd),
      matches('emails[value eq "not-an-object"]', odd),
      matches('meta.created lt "2030-01-01T00:00:00Z"', odd),
      matches('active eq true', odd),
    ];

    // Assess
    expect(results).toEqual([false, false, false, false]);
  });

  it.each<[string, string]>([
    ['nope eq "x"', "'nope' is not an attribute of User"],
    ['name.nope eq "x"', "'name.nope' is not an attribute of User"],
    ['badge eq "x"', "'badge' is not an attribute of User"],
    ['emails[type eq "work"].nope eq "x"', "'nope' is not a sub-attribute of emails"],
    ['nope[value eq "x"]', "'nope' is not an attribute of User"],
    ['name eq "x"', "'name' is complex: compare one of its sub-attributes instead"],
    ['userName[value eq "x"]', "'userName' is not complex"],
    ['emails[nope eq "x"]', "'nope' is not a sub-attribute of emails"],
    [`emails[${ENTERPRISE}:department eq "x"]`, 'is not a sub-attribute of emails'],
    ['emails[type.x eq "x"]', "'type.x' is not a sub-attribute of emails"],
    ['active gt true', "'gt' is not supported on the boolean attribute 'active'"],
    ['active co "t"', "'co' is not supported on the boolean attribute 'active'"],
    ['active eq "yes"', "'active' is boolean; compare it with true or false"],
    ['active eq 1', "'active' is boolean"],
    ['meta.created gt "yesterday"', "'yesterday' is not a dateTime"],
    ['title gt null', "'gt' cannot compare 'title' with null"],
  ])('raises invalidFilter for %s', (filter, detail) => {
    // Act
    const error = scimErrorFrom(() => matches(filter, USER));

    // Assess
    expect(error).toMatchObject({ status: 400, scimType: 'invalidFilter' });
    expect(error.message).toContain(detail);
  });

  it('keeps compiled filters apart per resource type', () => {
    // Prepare
    const filter = parseFilter('userName pr');
    evaluateFilter(filter, USER, 'User');

    // Act
    const error = scimErrorFrom(() => evaluateFilter(filter, GROUP, 'Group'));

    // Assess
    expect(error.message).toContain("'userName' is not an attribute of Group");
  });

  it('gives the same answers on repeated evaluation of one parsed filter', () => {
    // Prepare
    const filter = parseFilter('emails[type eq "home"]');

    // Act
    const results = [evaluateFilter(filter, USER, 'User'), evaluateFilter(filter, { emails: [] }, 'User'), evaluateFilter(filter, USER, 'User')];

    // Assess
    expect(results).toEqual([true, false, true]);
  });
});

describe('evaluateFilter on numeric, case-exact and extension attributes', () => {
  const WIDGET = {
    label: 'Gear',
    code: 'AbC',
    count: 10,
    ratio: 0.5,
    flag: false,
    parts: [{ value: 3, weight: 1.5 }, { value: 7 }],
    [WIDGET_EXTENSION]: { size: 4 },
  };

  it.each<[string, boolean]>([
    ['count eq 10', true],
    ['count eq "10"', true],
    ['count gt 9', true],
    ['count ge 10', true],
    ['count lt 10', false],
    ['count le 9', false],
    ['count ne 10', false],
    ['ratio lt 0.75', true],
    ['parts gt 5', true],
    ['parts.weight ge 1.5', true],
    ['parts[value eq 7 and weight pr]', false],
    ['parts[value lt 5 and weight pr]', true],
    ['code eq "AbC"', true],
    ['code eq "abc"', false],
    ['code sw "Ab"', true],
    ['code gt "Ab"', true],
    ['code lt "ABC"', false],
    ['flag eq false', true],
    [`${WIDGET_EXTENSION}:size eq 4`, true],
    [`${WIDGET_EXTENSION}:size pr`, true],
  ])('%s is %s', (filter, expected) => {
    // Act
    const result = matches(filter, WIDGET, WIDGET_TYPE);

    // Assess
    expect(result).toBe(expected);
  });

  it.each<[string, string]>([
    ['count co 1', "'co' is not supported on the numeric attribute 'count'"],
    ['count eq "ten"', "'count' is numeric; compare it with a number"],
    ['count eq true', "'count' is numeric"],
    ['nope pr', "'nope' is not an attribute of Widget"],
  ])('raises invalidFilter for %s', (filter, detail) => {
    // Act
    const error = scimErrorFrom(() => matches(filter, WIDGET, WIDGET_TYPE));

    // Assess
    expect(error).toMatchObject({ scimType: 'invalidFilter' });
    expect(error.message).toContain(detail);
  });
});

describe('validateFilter and compileFilter', () => {
  it('reports an unknown attribute without any resource being evaluated', () => {
    // Prepare
    const filter = parseFilter('userName eq "a" or nope pr');

    // Act
    const error = scimErrorFrom(() => validateFilter(filter, 'User'));

    // Assess
    expect(error.message).toContain("'nope' is not an attribute of User");
  });

  it('accepts a valid filter and compiles it to a reusable predicate', () => {
    // Prepare
    const filter = parseFilter('displayName sw "Adm"');

    // Act
    validateFilter(filter, 'Group');
    const predicate = compileFilter(filter, 'Group');

    // Assess
    expect([predicate(GROUP), predicate({ displayName: 'Users' })]).toEqual([true, false]);
  });

  it('refuses a value path nested in a value filter built by hand', () => {
    // Prepare
    const nested: FilterNode = { op: 'valuePath', path: { attribute: 'value' }, filter: pr('value') };
    const emails = USER_SCHEMA.attributes.find((attribute) => attribute.name === 'emails')!;

    // Act
    const error = scimErrorFrom(() => compileValueFilter(nested, emails));

    // Assess
    expect(error).toMatchObject({ scimType: 'invalidFilter' });
    expect(error.message).toContain('Value filters cannot be nested');
  });

  it('matches single values of a multi-valued attribute with compileValueFilter', () => {
    // Prepare
    const emails = USER_SCHEMA.attributes.find((attribute) => attribute.name === 'emails')!;
    const isWork = compileValueFilter(parseFilter('type eq "WORK"'), emails);

    // Act
    const results = [isWork({ type: 'work' }), isWork({ type: 'home' }), isWork('work')];

    // Assess
    expect(results).toEqual([true, false, false]);
  });
});

describe('indexableEquality', () => {
  it.each<[string, IndexableEquality]>([
    ['userName eq "Bob"', { attribute: 'userName', value: 'Bob', caseExact: false }],
    ['USERNAME EQ "Bob"', { attribute: 'userName', value: 'Bob', caseExact: false }],
    ['urn:ietf:params:scim:schemas:core:2.0:User:userName eq "Bob"', { attribute: 'userName', value: 'Bob', caseExact: false }],
    ['externalId eq "E-1"', { attribute: 'externalId', value: 'E-1', caseExact: true }],
    ['externalId eq 12345', { attribute: 'externalId', value: '12345', caseExact: true }],
    ['id eq "u-1"', { attribute: 'id', value: 'u-1', caseExact: true }],
    ['displayName eq "Admins"', { attribute: 'displayName', value: 'Admins', caseExact: false }],
    ['emails.value eq "A@x.com"', { attribute: 'emails.value', value: 'A@x.com', caseExact: false }],
    ['emails eq "A@x.com"', { attribute: 'emails.value', value: 'A@x.com', caseExact: false }],
    ['emails[value eq "A@x.com"]', { attribute: 'emails.value', value: 'A@x.com', caseExact: false }],
    ['members.value eq "u-1"', { attribute: 'members.value', value: 'u-1', caseExact: true }],
    ['members[value eq "u-1"]', { attribute: 'members.value', value: 'u-1', caseExact: true }],
    ['emails[value eq "A@x.com" and type eq "work"]', { attribute: 'emails.value', value: 'A@x.com', caseExact: false }],
    ['emails[type eq "work"].value eq "A@x.com"', { attribute: 'emails.value', value: 'A@x.com', caseExact: false }],
    ['groups.value eq "g-1"', { attribute: 'groups.value', value: 'g-1', caseExact: true }],
    ['userName eq "a" and active eq true', { attribute: 'userName', value: 'a', caseExact: false }],
    ['active eq true and externalId eq "e"', { attribute: 'externalId', value: 'e', caseExact: true }],
    ['(title pr and (id eq "x" and active eq true))', { attribute: 'id', value: 'x', caseExact: true }],
  ])('plans %s as an index lookup', (filter, expected) => {
    // Act
    const plan = indexableEquality(parseFilter(filter));

    // Assess
    expect(plan).toEqual(expected);
  });

  it.each([
    'userName co "a"',
    'userName ne "a"',
    'userName eq "a" or externalId eq "b"',
    'not (userName eq "a")',
    'title eq "x"',
    'name.givenName eq "x"',
    'emails.type eq "work"',
    'emails[type eq "work"]',
    'emails[type eq "work"].value co "x"',
    'emails[value eq "x" or type eq "work"]',
    'emails[value co "x"]',
    'emails[value.x eq "y"]',
    'userName[value eq "x"]',
    'userName eq true',
    'userName eq null',
    'userName pr',
    `${ENTERPRISE}:employeeNumber eq "1"`,
    `${ENTERPRISE}:manager[value eq "x"]`,
  ])('finds no index for %s', (filter) => {
    // Act
    const plan = indexableEquality(parseFilter(filter));

    // Assess
    expect(plan).toBeUndefined();
  });

  it('returns the exact string of any userName equality', () => {
    fc.assert(
      fc.property(fc.string(), (value) => {
        // Act
        const plan = indexableEquality(parseFilter(`userName eq ${JSON.stringify(value)}`));

        // Assess
        expect(plan).toEqual({ attribute: 'userName', value, caseExact: false });
      }),
    );
  });
});

describe('filters over several resource types (a search at the root)', () => {
  it.each<[string, boolean]>([
    ['userName eq "x"', true],
    ['userName pr', true],
    ['userName eq null', false],
    ['userName ne "x"', false],
    ['not (userName eq "x")', false],
    ['userName eq "x" and displayName eq "y"', true],
    ['userName eq "x" or displayName eq "y"', false],
    ['emails[type eq "work"]', true],
    ['displayName eq "y"', false],
  ])('for Group, %s never matches: %s', (filter, expected) => {
    // Act
    const result = neverMatches(parseFilter(filter), 'Group');

    // Assess
    expect(result).toBe(expected);
  });

  it('reads an attribute the type lacks as unassigned when asked to', () => {
    // Prepare
    const filter = parseFilter('userName eq "x" or displayName eq "Admins"');

    // Act
    const strict = scimErrorFrom(() => compileFilter(filter, 'Group'));
    const lenient = compileFilter(filter, 'Group', { unknownAttributesAbsent: true });

    // Assess
    expect(strict).toMatchObject({ scimType: 'invalidFilter' });
    expect([lenient(GROUP), lenient({ ...GROUP, displayName: 'Other' })]).toEqual([true, false]);
  });

  it('refuses an attribute that no type has', () => {
    // Act
    const error = scimErrorFrom(() => assertKnownToSomeType(parseFilter('displayName eq "a" or shoeSize eq 1'), ['User', 'Group']));

    // Assess
    expect(error).toMatchObject({ scimType: 'invalidFilter', message: "'shoeSize' is not an attribute of User or Group" });
  });
});
