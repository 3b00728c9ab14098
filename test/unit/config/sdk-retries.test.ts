import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SDK_RETRIES_LEFT_TO_THE_EVENT_SOURCE } from '../../../shared/config/sdk-retries.ts';
import { createDocumentClient } from '../../../shared/store/dynamodb.client.ts';

/** An AWS endpoint that fails every call with a 500, the error the SDK's standard mode retries. */
describe('SDK clients of event-source-driven functions', () => {
  let server: Server;
  let endpoint: string;
  let requests = 0;
  const local = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };

  beforeAll(async () => {
    server = createServer((request, response) => {
      requests += 1;
      request.resume();
      response.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
      response.end(JSON.stringify({ __type: 'InternalFailure', message: 'down' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  beforeEach(() => {
    requests = 0;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('send a failing SQS call once, leaving the retry to the event source', async () => {
    // Prepare
    const sqs = new SQSClient({ ...local, endpoint, ...SDK_RETRIES_LEFT_TO_THE_EVENT_SOURCE });
    // Act
    await expect(sqs.send(new GetQueueAttributesCommand({ QueueUrl: `${endpoint}/000000000000/lane` }))).rejects.toThrow();
    // Assess
    expect(requests).toBe(1);
  });

  it('send a failing DynamoDB call once, leaving the retry to the event source', async () => {
    // Prepare
    const documents = createDocumentClient({ ...local, endpoint, ...SDK_RETRIES_LEFT_TO_THE_EVENT_SOURCE });
    // Act
    await expect(documents.send(new GetCommand({ TableName: 'hub', Key: { pk: 'USER#1', sk: 'USER' } }))).rejects.toThrow();
    // Assess
    expect(requests).toBe(1);
  });

  it('where the SDK keeps its standard retries (request-driven functions), try the call again', async () => {
    // Prepare
    const documents = createDocumentClient({ ...local, endpoint });
    // Act
    await expect(documents.send(new GetCommand({ TableName: 'hub', Key: { pk: 'USER#1', sk: 'USER' } }))).rejects.toThrow();
    // Assess: the SDK's standard mode (four attempts for DynamoDB in this SDK release)
    expect(requests).toBeGreaterThan(1);
  });
});
