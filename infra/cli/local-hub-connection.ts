import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { interceptLocalhostDns } from 'fauxqs';
import { localAwsConfig } from '../local/local-aws.ts';

/**
 * How operator commands reach the hub: in AWS through TABLE_NAME and the usual credentials;
 * locally through the running `npm start`, which writes its endpoints into DATA_DIR.
 */
export const connectToHub = () => {
  if (process.env.TABLE_NAME) {
    return { dynamodb: new DynamoDBClient({}), sqs: new SQSClient({}), tableName: process.env.TABLE_NAME };
  }
  const file = join(process.env.DATA_DIR ?? './.data', 'local-endpoints.json');
  if (!existsSync(file)) {
    throw new Error(`No TABLE_NAME set and no running local hub found (${file}); start it with npm start, or set TABLE_NAME.`);
  }
  const local = JSON.parse(readFileSync(file, 'utf8')) as { dynamodb: string; sqs: string; tableName: string };
  // fauxqs queue URLs use *.localhost host names.
  interceptLocalhostDns();
  return {
    dynamodb: new DynamoDBClient({ ...localAwsConfig, endpoint: local.dynamodb }),
    sqs: new SQSClient({ ...localAwsConfig, endpoint: local.sqs }),
    tableName: local.tableName,
  };
};
