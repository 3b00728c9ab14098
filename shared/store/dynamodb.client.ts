import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * The document client, built once per container, over a client or from a client configuration
 * (e.g. the retries of shared/config/sdk-retries.ts). Endpoint and region come from the standard
 * SDK environment (`AWS_REGION`, `AWS_ENDPOINT_URL_DYNAMODB` locally).
 */
export const createDocumentClient = (client: DynamoDBClient | DynamoDBClientConfig = {}): DynamoDBDocumentClient =>
  DynamoDBDocumentClient.from(client instanceof DynamoDBClient ? client : new DynamoDBClient(client), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    unmarshallOptions: { wrapNumbers: false },
  });
