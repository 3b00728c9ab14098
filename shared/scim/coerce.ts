/**
 * Turns client-sent attribute values into the types their schema declares (RFC 7643 section 2.3),
 * accepting the near-misses real identity providers send: `"True"`/`"False"` strings for booleans
 * (Entra ID), numbers for strings (employee numbers), a bare id string or a list of one value for a
 * single complex attribute with a `value` sub-attribute (enterprise `manager`), one object where a
 * list belongs, `null` for "no value" (RFC 7643 section 2.5).
 */
import { scimErrors } from './errors.ts';
import { isPlainObject, isUnassigned, type JsonObject } from './json.ts';
import { type AttributeDefinition, findSubAttribute } from './schemas.ts';

/** xsd:dateTime (RFC 7643 section 2.3.5). Date.parse alone accepts far too much ("hello 1"). */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?$/i;

/** Milliseconds since the epoch of an xsd:dateTime string, or undefined if it is not one. */
export function parseDateTime(value: unknown): number | undefined {
  if (typeof value !== 'string' || !DATE_TIME.test(value)) return undefined;
  const time = Date.parse(value);
  return Number.isNaN(time) ? undefined : time;
}

export const parseBooleanText = (text: string): boolean | undefined => {
  const lower = text.trim().toLowerCase();
  return lower === 'true' ? true : lower === 'false' ? false : undefined;
};

const INTEGER_TEXT = /^-?\d+$/;
const DECIMAL_TEXT = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Coerces the value of an attribute. `name` is the attribute's path, used in error details and in
 * `unknown`, which collects sub-attributes the schema does not define (they are dropped). Returns
 * undefined when the value is unassigned. Wrong types raise `invalidValue`.
 */
export function coerceAttributeValue(definition: AttributeDefinition, value: unknown, name: string, unknown: string[]): unknown {
  if (!definition.multiValued) return coerceSingle(definition, value, name, unknown);
  if (value === undefined || value === null) return undefined;
  // OneLogin's documented templates send `"emails": {"value": "a@b.c", "primary": true}`: one
  // value where a list belongs. It is read as a list of that one value.
  const list = Array.isArray(value) ? value : definition.type === 'complex' && isPlainObject(value) ? [value] : undefined;
  if (list === undefined) throw scimErrors.invalidValue(`'${name}' is multi-valued, so its value must be an array`);
  const items = list.map((item) => coerceSingle(definition, item, name, unknown)).filter((item) => item !== undefined);
  assertSinglePrimary(items, name);
  return items.length === 0 ? undefined : items;
}

/** RFC 7643 section 2.4: the primary attribute value "true" MUST appear no more than once. */
export function assertSinglePrimary(items: readonly unknown[], name: string): void {
  const primaries = items.filter((item) => isPlainObject(item) && item.primary === true);
  if (primaries.length > 1) throw scimErrors.invalidValue(`Only one value of '${name}' may be primary`);
}

/** Coerces one value of an attribute (for a multi-valued attribute: one of its values). */
export function coerceSingle(definition: AttributeDefinition, value: unknown, name: string, unknown: string[]): unknown {
  if (value === undefined || value === null) return undefined;
  switch (definition.type) {
    case 'complex':
      return coerceComplex(definition, value, name, unknown);
    case 'boolean':
      return coerceBoolean(value, name);
    case 'integer':
    case 'decimal':
      return coerceNumber(definition.type, value, name);
    case 'dateTime':
      if (parseDateTime(value) === undefined) throw scimErrors.invalidValue(`'${name}' must be an xsd:dateTime string`);
      return value;
    default:
      return coerceString(value, name);
  }
}

function coerceString(value: unknown, name: string): string {
  if (typeof value === 'string') return value;
  // Identity providers map numeric source fields (employee ids, phone numbers) onto strings.
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw scimErrors.invalidValue(`'${name}' must be a string`);
}

function coerceBoolean(value: unknown, name: string): boolean {
  if (typeof value === 'boolean') return value;
  // Entra ID sends "True" / "False" for boolean attributes such as `active`.
  const parsed = typeof value === 'string' ? parseBooleanText(value) : undefined;
  if (parsed === undefined) throw scimErrors.invalidValue(`'${name}' must be a boolean`);
  return parsed;
}

function coerceNumber(type: 'integer' | 'decimal', value: unknown, name: string): number {
  const pattern = type === 'integer' ? INTEGER_TEXT : DECIMAL_TEXT;
  const number = typeof value === 'string' && pattern.test(value.trim()) ? Number(value) : value;
  const valid = typeof number === 'number' && Number.isFinite(number) && (type === 'decimal' || Number.isInteger(number));
  if (!valid) throw scimErrors.invalidValue(`'${name}' must be ${type === 'integer' ? 'an integer' : 'a number'}`);
  return number;
}

function coerceComplex(definition: AttributeDefinition, value: unknown, name: string, unknown: string[]): unknown {
  if (Array.isArray(value) && !definition.multiValued) {
    // Entra ID sends the single-valued `manager` as `[{"value": "id"}]`; an empty list means no value.
    if (value.length > 1) throw scimErrors.invalidValue(`'${name}' is single-valued, so it takes one value, not a list of ${value.length}`);
    return value.length === 0 ? undefined : coerceSingle(definition, value[0], name, unknown);
  }
  const valueSub = findSubAttribute(definition, 'value');
  if (valueSub !== undefined && (typeof value === 'string' || typeof value === 'number')) {
    // `"manager": "26118915-6090-4610-87e4-49d8ca9f808d"` means `{ "value": "2611..." }`.
    return { [valueSub.name]: coerceSingle(valueSub, value, `${name}.${valueSub.name}`, unknown) };
  }
  if (!isPlainObject(value)) throw scimErrors.invalidValue(`'${name}' must be an object`);
  const result: JsonObject = {};
  for (const [key, subValue] of Object.entries(value)) {
    const sub = findSubAttribute(definition, key);
    if (sub === undefined) {
      if (!isUnassigned(subValue)) unknown.push(`${name}.${key}`);
    } else if (sub.mutability !== 'readOnly') {
      // A read-only sub-attribute (manager.displayName) is the server's to set; RFC 7644 section 3.3 says ignore it.
      const coerced = coerceSingle(sub, subValue, `${name}.${sub.name}`, unknown);
      if (coerced !== undefined) result[sub.name] = coerced;
    }
  }
  return Object.keys(result).length === 0 ? undefined : result;
}
