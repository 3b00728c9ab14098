import { parseArgs } from 'node:util';
import { GetQueueAttributesCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { redriveDeadLetters } from '#shared/queues/dlq-redrive.ts';
import { DynamoAuditLog } from '#shared/store/audit.repository.ts';
import { createDocumentClient } from '#shared/store/dynamodb.client.ts';
import { hubTopology } from '#shared/topology/hub.topology.ts';
import { queueNames } from '#shared/topology/queue-names.ts';
import { connectToHub } from './local-hub-connection.ts';

const usage = `Operator commands.

  npm run ops -- audit [--connector ID] [--status S] [--action A] [--resource ID] [--from ISO] [--to ISO] [--limit N] [--cursor C]
      audit records, newest first (status: success, failed, skipped, retrying, dead-lettered)
  npm run ops -- dlq <connector id>            how many messages wait in the connector's DLQ
  npm run ops -- redrive <connector id> [--limit N]
      move the connector's dead-lettered messages back to its queue, to be applied again`;

const lane = hubTopology.queues.find((queue) => queue.perConnector);

const main = async (): Promise<number> => {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      connector: { type: 'string' },
      status: { type: 'string' },
      action: { type: 'string' },
      resource: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      limit: { type: 'string' },
      cursor: { type: 'string' },
    },
  });
  const [command, connectorId] = positionals;
  if (!command) {
    console.log(usage);
    return 2;
  }
  const hub = connectToHub();
  if (command === 'audit') {
    const audit = new DynamoAuditLog(createDocumentClient(hub.dynamodb), hub.tableName, 90);
    const page = await audit.query({
      connectorId: values.connector,
      status: values.status,
      action: values.action,
      resourceId: values.resource,
      from: values.from,
      to: values.to,
      limit: Number(values.limit ?? 50),
      cursor: values.cursor,
    });
    for (const entry of page.items) console.log(JSON.stringify(entry));
    if (page.next) console.error(`more: --cursor ${page.next}`);
    return 0;
  }
  if ((command === 'dlq' || command === 'redrive') && connectorId && lane) {
    const names = queueNames(lane, connectorId);
    const queueUrl = (await hub.sqs.send(new GetQueueUrlCommand({ QueueName: names.queue }))).QueueUrl ?? '';
    const dlqUrl = (await hub.sqs.send(new GetQueueUrlCommand({ QueueName: names.dlq }))).QueueUrl ?? '';
    if (command === 'dlq') {
      const attributes = await hub.sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
      console.log(`${names.dlq}: ${attributes.Attributes?.ApproximateNumberOfMessages ?? '0'} message(s)`);
      return 0;
    }
    const moved = await redriveDeadLetters(hub.sqs, dlqUrl, queueUrl, { max: values.limit ? Number(values.limit) : undefined });
    console.log(`moved ${moved} message(s) from ${names.dlq} back to ${names.queue}`);
    return 0;
  }
  console.error(usage);
  return 2;
};

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
