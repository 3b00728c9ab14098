import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseConnectorsDocument } from '#shared/connectors/connectors-document.ts';
import { reconcileSchedulesOf } from '#shared/topology/connector-schedules.ts';

/**
 * The parameters a connectors document decides, derived from it at synthesis: one lane per
 * connector and one EventBridge rule per connector with a reconciliation schedule. The stack is
 * synthesised from the same JSON file that is uploaded to the SSM parameter the functions read,
 * so what runs on a schedule is what the document says, with no second list to keep in step.
 */
export interface ConnectorsContext {
  connectorIds: string[];
  reconcileSchedules: Record<string, string>;
}

/** Context keys the document decides: giving them beside `connectorsFile` would be a second source of truth. */
const DERIVED = ['connectorIds', 'reconcileSchedules'] as const;

/**
 * Reads `connectorsFile` (relative to the working directory, where `cdk` runs) and derives the
 * connector ids and schedules; refuses a context that also sets either, naming it.
 */
export const connectorsContextOf = (file: string, context: Record<string, unknown>): ConnectorsContext => {
  const clashing = DERIVED.filter((key) => context[key] !== undefined);
  if (clashing.length > 0)
    throw new Error(`invalid hub parameters in CDK context: connectorsFile derives ${clashing.join(' and ')} from the document: leave them out`);
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`invalid hub parameters in CDK context: connectorsFile ${path} cannot be read: ${(error as Error).message}`, { cause: error });
  }
  const document = parseConnectorsDocument(text, `connectorsFile ${path}`);
  return { connectorIds: document.connectors.map((c) => c.id), reconcileSchedules: reconcileSchedulesOf(document.connectors) };
};
