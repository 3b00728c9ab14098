import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { projectRoot } from '../local-hub.ts';

type Json = Record<string, unknown>;

/** Microsoft's own OpenAPI description of the Graph users and groups surface (../shared/contracts). */
export const GRAPH_CONTRACT_PATH = resolve(projectRoot, '../shared/contracts/msgraph.openapi.json');
export const graphContractAvailable = existsSync(GRAPH_CONTRACT_PATH);
if (!graphContractAvailable) console.warn(`${GRAPH_CONTRACT_PATH} is missing: the Entra tests that need Microsoft Graph's contract are skipped`);

/** What a write body may carry for one entity type, as the contract declares it. */
export interface EntityContract {
  /** Every declared property (the `allOf` chain flattened). */
  declared: Set<string>;
  /** Properties Graph sets itself ("Read-only." in their description) and navigation properties. */
  readOnly: Set<string>;
  /** Properties that may appear in `$filter`/`$select` (declared, structural). */
  structural: Set<string>;
  /** The declared properties of each complex property's type (`onPremisesExtensionAttributes` -> its attributes). */
  complex: Map<string, Set<string>>;
  /** The body's declared properties checked against their schemas: the first problem, or undefined. */
  validate(body: Json): string | undefined;
}

export interface GraphContract {
  user: EntityContract;
  group: EntityContract;
  /** Validates a response body against a named schema (collection responses, the error envelope). */
  validateResponse(schema: 'user' | 'group' | 'userCollection' | 'groupCollection' | 'directoryObjectCollection' | 'error', body: unknown): string | undefined;
}

const schemaName = (ref: string) => ref.split('/').pop() as string;

/**
 * The contract read as JSON Schema, with the description's quirks undone (README section 2,
 * "Reading this file"): every object schema carries `additionalProperties: {"type": "object"}`,
 * which would reject each `allOf` member's siblings, so those entries are removed and undeclared
 * properties are refused by the fake itself; navigation properties (drive, calendar, ...) are
 * left out of the write schemas, since a write body may not carry them anyway. OpenAPI 3.0's
 * `nullable` is Ajv's own keyword.
 */
export const loadGraphContract = (): GraphContract => {
  const document = JSON.parse(readFileSync(GRAPH_CONTRACT_PATH, 'utf8')) as Json;
  const original = (document.components as Json).schemas as Record<string, Json>;
  const components = structuredClone(original);
  const strip = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) strip(item);
      return;
    }
    if (!node || typeof node !== 'object') return;
    const object = node as Json;
    const extra = object.additionalProperties as Json | undefined;
    if (extra && typeof extra === 'object' && extra.type === 'object' && Object.keys(extra).length === 1) delete object.additionalProperties;
    // Navigation properties never appear in a write body, and their closure (user.print ->
    // printers -> ...) would take seconds to compile.
    const properties = object.properties as Record<string, Json> | undefined;
    if (properties && typeof properties === 'object') {
      for (const [key, value] of Object.entries(properties)) if (value?.['x-ms-navigationProperty'] === true) delete properties[key];
    }
    // Schemas compiled on their own reach the components through the document's id.
    if (typeof object.$ref === 'string' && object.$ref.startsWith('#/')) object.$ref = `graph${object.$ref}`;
    for (const value of Object.values(object)) strip(value);
  };
  strip(components);

  const propertiesOf = (name: string): Record<string, Json> => {
    const schema = original[name] as Json;
    const parts = (schema.allOf as Json[] | undefined) ?? [schema];
    return Object.assign(
      {},
      ...parts.map((part) => (typeof part.$ref === 'string' ? propertiesOf(schemaName(part.$ref)) : ((part.properties as Record<string, Json>) ?? {}))),
    );
  };

  // The document is Microsoft's, checked where it was trimmed: validating its 556 schemas against
  // the meta-schema again costs seconds per test file. Graph's own integer and binary formats
  // (int16, int32, int64, base64url...) are checked by `type` alone.
  const propertiesOfStripped = (name: string): Record<string, Json> => {
    const schema = components[name] as Json;
    const parts = (schema.allOf as Json[] | undefined) ?? [schema];
    return Object.assign(
      {},
      ...parts.map((part) => (typeof part.$ref === 'string' ? propertiesOfStripped(schemaName(part.$ref)) : ((part.properties as Record<string, Json>) ?? {}))),
    );
  };

  const ajv = new Ajv({ strict: false, validateSchema: false, logger: false });
  addFormats.default(ajv);
  for (const format of ['int8', 'int16', 'int32', 'int64', 'uint8', 'base64url', 'decimal', 'double', 'float', 'duration', 'time', 'date']) {
    if (!ajv.formats[format]) ajv.addFormat(format, true);
  }
  ajv.addSchema({ $id: 'graph', components: { schemas: components } });

  /** Whether a schema is an entity type (its allOf chain reaches microsoft.graph.entity), not a complex type. */
  const isEntityType = (name: string): boolean =>
    name === 'microsoft.graph.entity' ||
    ((original[name]?.allOf as Json[] | undefined) ?? []).some((part) => typeof part.$ref === 'string' && isEntityType(schemaName(part.$ref)));
  const entity = (name: string): EntityContract => {
    const properties = propertiesOf(name);
    // Navigation properties: flagged, or (like user.manager) a single-valued reference to an entity type.
    const navigation = new Set(
      Object.keys(properties).filter((key) => {
        const property = properties[key] as Json;
        return property['x-ms-navigationProperty'] === true || (typeof property.$ref === 'string' && isEntityType(schemaName(property.$ref)));
      }),
    );
    const readOnly = new Set(
      Object.keys(properties).filter((key) => navigation.has(key) || /(^|\s)Read-only\./.test(String(properties[key]?.description ?? ''))),
    );
    const complex = new Map<string, Set<string>>();
    for (const [key, property] of Object.entries(properties)) {
      const ref = typeof property.$ref === 'string' ? property.$ref : (property.anyOf as Json[] | undefined)?.find((item) => item.$ref)?.$ref;
      if (!navigation.has(key) && typeof ref === 'string' && original[schemaName(ref)]) complex.set(key, new Set(Object.keys(propertiesOf(schemaName(ref)))));
    }
    // The stripped copy's properties: local `$ref`s rewritten, navigation left out.
    const writable = Object.fromEntries(Object.entries(propertiesOfStripped(name)).filter(([key]) => !navigation.has(key)));
    // Compiled per property on first use: the whole entity at once takes seconds to compile,
    // and a test file meets a dozen properties.
    const compiled = new Map<string, ValidateFunction>();
    const validatorOf = (key: string) => {
      let validate = compiled.get(key);
      if (!validate) {
        validate = ajv.compile(writable[key] as Json);
        compiled.set(key, validate);
      }
      return validate;
    };
    return {
      declared: new Set(Object.keys(properties)),
      readOnly,
      structural: new Set(Object.keys(writable)),
      complex,
      validate: (body) => {
        for (const [key, value] of Object.entries(body)) {
          if (!(key in writable)) continue;
          const validate = validatorOf(key);
          if (!validate(value)) return `${key}${ajv.errorsText(validate.errors, { dataVar: '' })}`;
        }
        return undefined;
      },
    };
  };

  const user = entity('microsoft.graph.user');
  const group = entity('microsoft.graph.group');
  const errorSchema = ajv.compile({ $ref: 'graph#/components/schemas/microsoft.graph.ODataErrors.ODataError' });
  /** An entity as Graph returns it: declared properties of the right types, plus OData annotations. */
  const entityProblem = (contract: EntityContract, item: unknown): string | undefined => {
    if (!item || typeof item !== 'object') return 'an entity must be an object';
    const undeclared = Object.keys(item).find((key) => !key.startsWith('@odata.') && !contract.declared.has(key));
    return undeclared ? `undeclared property ${undeclared}` : contract.validate(item as Json);
  };
  return {
    user,
    group,
    validateResponse: (schema, body) => {
      if (schema === 'error') return errorSchema(body) ? undefined : ajv.errorsText(errorSchema.errors);
      if (schema === 'user') return entityProblem(user, body);
      if (schema === 'group') return entityProblem(group, body);
      const page = body as Json;
      if (!Array.isArray(page?.value)) return 'a collection response needs a value array';
      if (page['@odata.nextLink'] !== undefined && typeof page['@odata.nextLink'] !== 'string') return '@odata.nextLink must be a string';
      const contract = schema === 'groupCollection' ? group : schema === 'userCollection' ? user : undefined;
      for (const item of page.value) {
        const problem = contract ? entityProblem(contract, item) : typeof (item as Json)?.id === 'string' ? undefined : 'a directory object needs an id';
        if (problem) return problem;
      }
      return undefined;
    },
  };
};
