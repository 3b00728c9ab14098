import { ConfigError } from '../errors.ts';
import { parseConnectorsDocument, readConnectorsFile } from './connectors-document.ts';
import type { ConnectorsDocument, SecretValue } from './connectors.schema.ts';
import { parameterReaderFor } from './parameter-reader.ts';
import type { ParameterReader } from './parameter-reader.port.ts';

/**
 * Where a function finds the connectors document: the file named by CONNECTORS_FILE (locally)
 * or the SSM parameter named by CONNECTORS_PARAMETER (in AWS), both given by the `parameters`
 * grant; without either the function fails at cold start, as a function deployed without the
 * grant would. Read at most once a minute per container, so an edited document takes effect
 * without a deploy. A deployed function reads the parameter through the Parameters and Secrets
 * extension (parameter-reader.ts).
 */
export const makeConnectorsSource = (
  env: { CONNECTORS_FILE?: string; CONNECTORS_PARAMETER?: string },
  ttlMs = 60_000,
  reader: () => ParameterReader = sharedReader,
) => {
  if (!env.CONNECTORS_FILE && !env.CONNECTORS_PARAMETER) {
    throw new ConfigError(
      "neither CONNECTORS_PARAMETER nor CONNECTORS_FILE is set: the function needs a 'parameters' grant in its topology entry (shared/topology/hub.topology.ts)",
    );
  }
  let cached: { at: number; document: Promise<ConnectorsDocument> } | undefined;
  const load = async (): Promise<ConnectorsDocument> => {
    if (env.CONNECTORS_FILE) return readConnectorsFile(env.CONNECTORS_FILE);
    const name = env.CONNECTORS_PARAMETER as string;
    return parseConnectorsDocument(await reader().parameter(name), `SSM parameter ${name}`);
  };
  return (): Promise<ConnectorsDocument> => {
    if (!cached || Date.now() - cached.at > ttlMs) {
      const document = load();
      cached = { at: Date.now(), document };
      document.catch(() => {
        cached = undefined;
      });
    }
    return cached.document;
  };
};

/** A secret that can be read again: `refresh` skips the cache (after the target refused it). */
export interface SecretSource {
  get(): Promise<string>;
  refresh(): Promise<string>;
}

/** Cached secrets expire after this: a rotated secret reaches every container within 5 minutes. */
export const SECRET_TTL_MS = 5 * 60_000;

/**
 * Secrets by ARN, cached per container for at most `ttlMs`. A failed read is not cached (the
 * next call tries again), and `fresh` reads past the cache, e.g. after a 401 from the target.
 *
 * Written here rather than with @aws-lambda-powertools/parameters (whose `maxAge` and
 * `forceFetch` do the same), for the secrets and for the connectors document above alike: the
 * reader and the clock are injected, so expiry and the refresh-after-401 path are unit-tested
 * without AWS; the connectors document comes from a file locally (no SSM stand-in runs), which
 * the package does not read; a failed read is never cached, where the package's cache would
 * need the same wrapper; and the package reads through the SDK clients that the Parameters and
 * Secrets extension keeps out of the function bundles (parameter-reader.ts).
 */
export const makeSecretResolver = (read: (arn: string) => Promise<string>, options: { ttlMs?: number; now?: () => number } = {}) => {
  const ttlMs = options.ttlMs ?? SECRET_TTL_MS;
  const clock = options.now ?? Date.now;
  const cache = new Map<string, { at: number; value: Promise<string> }>();
  const resolve = (value: SecretValue, fresh = false): Promise<string> => {
    if (typeof value === 'string') return Promise.resolve(value);
    const cached = cache.get(value.secretArn);
    if (cached && !fresh && clock() - cached.at < ttlMs) return cached.value;
    const entry = { at: clock(), value: read(value.secretArn) };
    entry.value.catch(() => {
      if (cache.get(value.secretArn) === entry) cache.delete(value.secretArn);
    });
    cache.set(value.secretArn, entry);
    return entry.value;
  };
  return {
    resolve,
    sourceOf: (value: SecretValue): SecretSource => ({ get: () => resolve(value), refresh: () => resolve(value, true) }),
  };
};

/** Built on first use: locally (files, inline secrets) it never is. */
let readerOfProcess: ParameterReader | undefined;
function sharedReader(): ParameterReader {
  readerOfProcess ??= parameterReaderFor();
  return readerOfProcess;
}

const secretResolver = makeSecretResolver((arn) => sharedReader().secret(arn));

/** A secret from the document: inline (local files) or a Secrets Manager ARN (AWS), cached at most 5 minutes. */
export const resolveSecret = (value: SecretValue): Promise<string> => secretResolver.resolve(value);

/** The secret as a source a connector reads on each use and refreshes when the target refuses it. */
export const secretSourceOf = (value: SecretValue): SecretSource => secretResolver.sourceOf(value);
