import type { FunctionSpec, Grant } from './topology.types.ts';

/**
 * The environment contract of the hub's functions: which variables a function's grants give it.
 * The CDK stack (infra/aws/hub.stack.ts) and the local runner (infra/local/runner.ts) both build
 * every function's environment with `environmentOf`, so a function that reads a variable its
 * grants do not give fails locally exactly as it would in AWS: at cold start, with a
 * configuration error naming the variable and the grant (shared/config/env.ts).
 */

/** Every variable a grant can give, and the grant that gives it (what the configuration error names). */
export const GRANTED_VARIABLES = {
  TABLE_NAME: "a 'table' or 'stream' grant",
  AUDIT_RETENTION_DAYS: "a 'table' grant with readWrite access",
  CONNECTOR_QUEUE_URLS: "a 'queues' grant",
  HUB_QUEUE_URLS: "a 'queues' grant",
  CONNECTORS_PARAMETER: "a 'parameters' grant",
  CONNECTORS_FILE: "a 'parameters' grant",
  IMPORT_BUCKET: "a 'bucket' grant on the import bucket",
  CONSOLE_ORIGIN: "an http trigger with 'operator' auth",
} as const satisfies Record<string, string>;

export type GrantedVariable = keyof typeof GRANTED_VARIABLES;

export const isGrantedVariable = (name: string): name is GrantedVariable => Object.hasOwn(GRANTED_VARIABLES, name);

/** The topology's import bucket (shared/topology/hub.topology.ts), whose name IMPORT_BUCKET gives. */
export const IMPORT_BUCKET_NAME = 'import';

/** How long audit records live when the deployment does not say (days). */
export const DEFAULT_AUDIT_RETENTION_DAYS = 365;

/**
 * Where the functions read the connectors document: an SSM parameter in AWS, a file locally,
 * where no SSM stand-in runs. The one place the two runners' variable names differ, by design:
 * a file path is never mistaken for a parameter name.
 */
export type ConnectorsDocumentLocation = { parameterName: string } | { file: string };

/** The values behind the variables: CloudFormation tokens in the stack, the stand-ins' names locally. */
export interface EnvironmentResources {
  tableName: string;
  /** JSON `{"<connectorId>": "<queue url>"}` over every connector lane. */
  connectorQueueUrls: string;
  /** JSON `{"<queue name>": "<queue url>"}` over the topology's queues that are not per connector. */
  hubQueueUrls: string;
  connectorsDocument: ConnectorsDocumentLocation;
  auditRetentionDays: number;
  /**
   * The import bucket: its name in AWS, a `file:` URL of the directory that stands in for it
   * locally (shared/objects/object-store.wiring.ts tells them apart).
   */
  importBucket: string;
  /**
   * The origin of the operators' console, the one a browser may call `operator` routes from
   * (CORS): its distribution in AWS; empty locally, where the hub serves the console on its own
   * origin and no cross-origin call is allowed.
   */
  consoleOrigin: string;
}

const variablesOf = (grant: Grant, resources: EnvironmentResources): { [name in GrantedVariable]?: string } => {
  switch (grant.resource) {
    case 'table':
      // Writers record audit entries, whose TTL this sets.
      return grant.access === 'readWrite'
        ? { TABLE_NAME: resources.tableName, AUDIT_RETENTION_DAYS: String(resources.auditRetentionDays) }
        : { TABLE_NAME: resources.tableName };
    case 'stream':
      return { TABLE_NAME: resources.tableName };
    case 'queues':
      return { CONNECTOR_QUEUE_URLS: resources.connectorQueueUrls, HUB_QUEUE_URLS: resources.hubQueueUrls };
    case 'parameters': {
      const location = resources.connectorsDocument;
      return 'file' in location ? { CONNECTORS_FILE: location.file } : { CONNECTORS_PARAMETER: location.parameterName };
    }
    case 'bucket':
      return grant.bucket === IMPORT_BUCKET_NAME ? { IMPORT_BUCKET: resources.importBucket } : {};
    case 'secrets':
      // IAM only: the connectors document names each secret by ARN.
      return {};
  }
};

/** Serving the operators' console is a grant of its own: the console's origin, for CORS. */
const servesConsole = (fn: Partial<Pick<FunctionSpec, 'triggers'>>): boolean =>
  (fn.triggers ?? []).some((trigger) => trigger.kind === 'http' && trigger.auth.type === 'operator');

/** The variables a function's grants (and `operator` routes) give it (names from GRANTED_VARIABLES), and nothing else. */
export const environmentOf = (
  fn: Pick<FunctionSpec, 'grants'> & Partial<Pick<FunctionSpec, 'triggers'>>,
  resources: EnvironmentResources,
): Record<string, string> =>
  Object.assign({}, ...fn.grants.map((grant) => variablesOf(grant, resources)), servesConsole(fn) ? { CONSOLE_ORIGIN: resources.consoleOrigin } : {});
