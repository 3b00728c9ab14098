import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.ts';
import { type ConnectorsDocument, ConnectorsDocumentSchema } from './connectors.schema.ts';

/**
 * Parses and validates a connectors document. A bad document stops start-up with an error
 * that names the field, e.g. `connectors.0.baseUrl: Invalid URL`.
 */
export const parseConnectorsDocument = (text: string, source: string): ConnectorsDocument => {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${source} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  const parsed = ConnectorsDocumentSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(document)'}: ${issue.message}`);
    throw new ConfigError(`${source} is not a valid connectors document: ${problems.join('; ')}`);
  }
  return parsed.data;
};

export const readConnectorsFile = (path: string): ConnectorsDocument => {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read CONNECTORS_FILE ${path}: ${(error as Error).message}`, { cause: error });
  }
  return parseConnectorsDocument(text, `CONNECTORS_FILE ${path}`);
};
