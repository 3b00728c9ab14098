import { BatchGetCommand, type BatchGetCommandOutput, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** BatchGetItem takes at most 100 keys per request. */
const KEYS_PER_REQUEST = 100;

/**
 * Every item of `keys` that exists, read consistently in requests of 100 keys, with the keys
 * DynamoDB leaves unprocessed (throttling, the 16 MB response limit) asked for again.
 */
export const batchGetAll = async (
  client: DynamoDBDocumentClient,
  tableName: string,
  keys: Array<Record<string, unknown>>,
  projection?: { expression: string; names: Record<string, string> },
): Promise<Array<Record<string, unknown>>> => {
  const items: Array<Record<string, unknown>> = [];
  for (let start = 0; start < keys.length; start += KEYS_PER_REQUEST) {
    let pending: Array<Record<string, unknown>> | undefined = keys.slice(start, start + KEYS_PER_REQUEST);
    while (pending && pending.length > 0) {
      const result: BatchGetCommandOutput = await client.send(
        new BatchGetCommand({
          RequestItems: {
            [tableName]: {
              Keys: pending,
              ConsistentRead: true,
              ...(projection ? { ProjectionExpression: projection.expression, ExpressionAttributeNames: projection.names } : {}),
            },
          },
        }),
      );
      items.push(...(result.Responses?.[tableName] ?? []));
      pending = result.UnprocessedKeys?.[tableName]?.Keys;
    }
  }
  return items;
};
