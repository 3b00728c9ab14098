import { ScimError } from '../../../shared/scim/errors.ts';
import type { AttributeDefinition, ResourceTypeDefinition } from '../../../shared/scim/schemas.ts';

/**
 * Runs `act` and returns the ScimError it throws. Fails the test when it throws nothing or
 * something else, so an assertion on the error can never pass for the wrong reason.
 */
export function scimErrorFrom(act: () => unknown): ScimError {
  try {
    act();
  } catch (error) {
    if (error instanceof ScimError) return error;
    throw error;
  }
  throw new Error('Expected a ScimError, but nothing was thrown');
}

const attribute = (name: string, type: AttributeDefinition['type'], extra: Partial<AttributeDefinition> = {}): AttributeDefinition => ({
  name,
  type,
  multiValued: false,
  required: false,
  caseExact: false,
  mutability: 'readWrite',
  returned: 'default',
  uniqueness: 'none',
  description: `Test attribute ${name}.`,
  ...extra,
});

/**
 * A resource type that exercises what User and Group do not have: numeric attributes, an
 * attribute returned only on request, a case-exact string, a multi-valued complex attribute
 * with numeric sub-attributes, and an extension with a URN of its own.
 */
export const WIDGET_TYPE: ResourceTypeDefinition = {
  id: 'Widget',
  name: 'Widget',
  endpoint: '/Widgets',
  description: 'Test widget',
  schema: {
    id: 'urn:test:schemas:Widget',
    name: 'Widget',
    description: 'Test widget',
    attributes: [
      attribute('label', 'string', { required: true }),
      attribute('code', 'string', { caseExact: true }),
      attribute('count', 'integer'),
      attribute('ratio', 'decimal'),
      attribute('flag', 'boolean'),
      attribute('since', 'dateTime'),
      attribute('secret', 'string', { returned: 'request' }),
      attribute('parts', 'complex', {
        multiValued: true,
        subAttributes: [attribute('value', 'integer'), attribute('weight', 'decimal'), attribute('primary', 'boolean')],
      }),
    ],
  },
  schemaExtensions: [
    {
      required: false,
      schema: {
        id: 'urn:test:schemas:extension:Widget',
        name: 'WidgetExtension',
        description: 'Test widget extension',
        attributes: [attribute('size', 'integer'), attribute('note', 'string', { returned: 'request' })],
      },
    },
  ],
};

export const WIDGET_EXTENSION = 'urn:test:schemas:extension:Widget';

/** Freezes a JSON value all the way down, so a test fails if the code under test mutates it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}
