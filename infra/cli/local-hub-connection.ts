import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { interceptLocalhostDns } from 'fauxqs';
import { localAwsConfig } from '../local/local-aws.ts';

/** A hub deployed on AWS: the table by TABLE_NAME, the queues by the stage's names. */
export interface AwsHubConnection {
  kind: 'aws';
  dynamodb: DynamoDBClient;
  sqs: SQSClient;
  tableName: string;
}

/** The running `npm start`: its admin API (with the operator token) and its stand-ins. */
export interface LocalHubConnection {
  kind: 'local';
  url: string;
  adminToken: string;
  dynamodb: DynamoDBClient;
  sqs: SQSClient;
  tableName: string;
}

export type HubConnection = AwsHubConnection | LocalHubConnection;

interface LocalEndpoints {
  url?: string;
  adminToken?: string;
  dynamodb: string;
  sqs: string;
  tableName: string;
}

/** Where `npm start` leaves its endpoints and operator token (owner-only file in DATA_DIR). */
export const localEndpointsFile = (dataDir = process.env.DATA_DIR ?? './.data'): string => join(dataDir, 'local-endpoints.json');

/**
 * How operator commands reach the hub: in AWS through TABLE_NAME and the usual credentials;
 * locally through the running `npm start`, which writes its endpoints and operator token into
 * DATA_DIR. `ADMIN_TOKEN` in the environment wins over the file's token.
 */
export const connectToHub = (): HubConnection => {
  if (process.env.TABLE_NAME) {
    return { kind: 'aws', dynamodb: new DynamoDBClient({}), sqs: new SQSClient({}), tableName: process.env.TABLE_NAME };
  }
  const file = localEndpointsFile();
  if (!existsSync(file)) {
    throw new Error(`No TABLE_NAME set and no running local hub found (${file}); start it with npm start, or set TABLE_NAME.`);
  }
  const local = JSON.parse(readFileSync(file, 'utf8')) as LocalEndpoints;
  // fauxqs queue URLs use *.localhost host names.
  interceptLocalhostDns();
  return {
    kind: 'local',
    url: local.url ?? '',
    adminToken: process.env.ADMIN_TOKEN ?? local.adminToken ?? '',
    dynamodb: new DynamoDBClient({ ...localAwsConfig, endpoint: local.dynamodb }),
    sqs: new SQSClient({ ...localAwsConfig, endpoint: local.sqs }),
    tableName: local.tableName,
  };
};

/** Thrown when the local admin API answers with an error: its status and message. */
export class AdminApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Calls the local hub's admin API with the operator token. */
export const callLocalAdmin = async (
  hub: LocalHubConnection,
  method: 'GET' | 'POST',
  path: string,
  query: Record<string, string | undefined> = {},
  payload?: unknown,
): Promise<unknown> => {
  if (!hub.url) throw new Error('The running hub is older than this command (no url in its endpoints file): restart npm start.');
  const url = new URL(`/admin${path}`, hub.url);
  for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, value);
  const headers: Record<string, string> = {
    authorization: `Bearer ${hub.adminToken}`,
    ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
  };
  const response = await fetch(url, { method, headers, ...(payload === undefined ? {} : { body: JSON.stringify(payload) }) });
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  if (!response.ok) {
    const message =
      typeof body === 'object' && body !== null
        ? ((body as { error?: string; message?: string }).error ?? (body as { message?: string }).message)
        : String(body);
    throw new AdminApiError(response.status, `${method} /admin${path}: ${response.status} ${message ?? ''}`.trim());
  }
  return body;
};
