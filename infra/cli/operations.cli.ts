import '../local/sdk-notices.ts';
import { parseArgs } from 'node:util';
import { GetQueueAttributesCommand, GetQueueUrlCommand, QueueDoesNotExist } from '@aws-sdk/client-sqs';
import { makeConnectorsSource } from '#shared/connectors/connectors.source.ts';
import { wireOnDemand } from '#shared/provisioning/on-demand.wiring.ts';
import { redriveWithinBudget } from '#shared/queues/dlq-redrive.ts';
import { DynamoAuditLog } from '#shared/store/audit.repository.ts';
import { createDocumentClient } from '#shared/store/dynamodb.client.ts';
import type { AccessGrant } from '#shared/sync/grant.ports.ts';
import { OnDemandBodySchema, onDemandRequestOf } from '#shared/sync/on-demand.schema.ts';
import type { OnDemandResult } from '#shared/sync/on-demand.service.ts';
import type { AuditEntry } from '#shared/sync/sync.ports.ts';
import { formatAuditTable } from './audit-table.ts';
import { formatGrants, formatOnDemandResult } from './on-demand-report.ts';
import { type AwsHubConnection, callLocalAdmin, connectToHub } from './local-hub-connection.ts';
import { RUN_COMMANDS, runCommand, runsUsage } from './runs.commands.ts';
import { stageQueueNames } from './stage-queue-names.ts';
import { runExport, runImport, transferUsage } from './transfer.commands.ts';

const usage = `Operator commands.

  npm run ops -- audit [--connector ID] [--status S] [--action A] [--resource ID] [--from ISO] [--to ISO] [--limit N] [--cursor C] [--json]
      audit records, newest first, as a table (--json: one JSON object a line)
      (status: success, failed, skipped, retrying, dead-lettered)
  npm run ops -- dlq <connector id>            the connector's dead letters: how many, and the first ones
  npm run ops -- redrive <connector id> [--limit N]
      move the connector's dead-lettered messages back to its queue, to be applied again
${runsUsage}
  npm run ops -- provision --connector ID (--user ID|USERNAME|EXTERNALID | --group ID|NAME)
                 [--dry-run] [--deprovision] [--until ISO-TIME|DURATION] [--json]
      provision one user or group on the connector now, step by step, with each attribute's
      old and new value (--dry-run: plan only, nothing changes); --deprovision applies the
      connector's deprovision policy; --until 2h (or 90m, 7d, 2026-03-01T18:00:00Z) grants
      access even outside the connector's scope, and the hub deprovisions by itself then
  npm run ops -- grants [--connector ID] [--json]   temporary access grants, soonest to end first
${transferUsage}

Locally, with npm start running, nothing is needed: the hub is found through DATA_DIR (default
./.data) and called on its admin API with the operator token (ADMIN_TOKEN, or the one npm start
wrote there). Against AWS: set TABLE_NAME and the usual AWS credentials, and STAGE_NAME when the
stage is not prod (the queues are named scim-hub-<stage>-connector-<id>.fifo); provision reads the
connectors document from the SSM parameter /scim-hub/<stage>/connectors (CONNECTORS_PARAMETER to
name another) and runs with your credentials, as the provision-on-demand function does.`;

const awsQueueNames = (connectorId: string) => stageQueueNames(process.env.STAGE_NAME ?? 'prod', connectorId);

const awsQueueUrls = async (hub: AwsHubConnection, connectorId: string) => {
  const names = awsQueueNames(connectorId);
  try {
    const queueUrl = (await hub.sqs.send(new GetQueueUrlCommand({ QueueName: names.queue }))).QueueUrl ?? '';
    const dlqUrl = (await hub.sqs.send(new GetQueueUrlCommand({ QueueName: names.dlq }))).QueueUrl ?? '';
    return { names, queueUrl, dlqUrl };
  } catch (error) {
    if (error instanceof QueueDoesNotExist) {
      throw new Error(
        `no queue ${names.queue} in this account and Region: is ${connectorId} a connector of stage ${process.env.STAGE_NAME ?? 'prod'} (STAGE_NAME)?`,
      );
    }
    throw error;
  }
};

/** On-demand provisioning in this process against an AWS stage, with the operator's credentials. */
const awsOnDemand = (hub: AwsHubConnection) => {
  const stage = process.env.STAGE_NAME ?? 'prod';
  const documents = createDocumentClient(hub.dynamodb);
  return wireOnDemand({
    documents,
    tableName: hub.tableName,
    sqs: hub.sqs,
    audit: new DynamoAuditLog(documents, hub.tableName, Number(process.env.AUDIT_RETENTION_DAYS ?? 90)),
    connectors: makeConnectorsSource({ CONNECTORS_PARAMETER: process.env.CONNECTORS_PARAMETER ?? `/scim-hub/${stage}/connectors` }),
    queueUrl: async (connectorId) => {
      try {
        return (await awsQueueUrls(hub, connectorId)).queueUrl;
      } catch {
        return undefined;
      }
    },
  });
};

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
      user: { type: 'string' },
      group: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      full: { type: 'boolean', default: false },
      deprovision: { type: 'boolean', default: false },
      until: { type: 'string' },
      json: { type: 'boolean', default: false },
      'no-wait': { type: 'boolean', default: false },
      mode: { type: 'string' },
      match: { type: 'string' },
      'no-provision': { type: 'boolean', default: false },
      mapping: { type: 'string' },
      format: { type: 'string' },
      filter: { type: 'string' },
      attributes: { type: 'string' },
      output: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  const [command, connectorId] = positionals;
  if (values.help || !command) {
    console.log(usage);
    return command ? 0 : 2;
  }
  if (RUN_COMMANDS.has(command)) {
    return runCommand(connectToHub(), command, connectorId, {
      connector: values.connector,
      limit: values.limit,
      dryRun: values['dry-run'] ?? false,
      full: values.full ?? false,
      noWait: values['no-wait'] ?? false,
      json: values.json ?? false,
    });
  }
  if (command === 'import') {
    if (!connectorId) {
      console.error(usage);
      return 2;
    }
    return runImport(connectToHub(), connectorId, {
      dryRun: values['dry-run'] ?? false,
      mode: values.mode,
      match: values.match,
      provision: !values['no-provision'],
      mapping: values.mapping,
    });
  }
  if (command === 'export') {
    return runExport(connectToHub(), connectorId, { format: values.format, filter: values.filter, attributes: values.attributes, output: values.output });
  }
  if (!['audit', 'provision', 'grants'].includes(command) && !((command === 'dlq' || command === 'redrive') && connectorId)) {
    console.error(usage);
    return 2;
  }
  const hub = connectToHub();

  if (command === 'provision') {
    const connector = values.connector;
    const body = OnDemandBodySchema.safeParse({
      user: values.user,
      group: values.group,
      dryRun: values['dry-run'],
      deprovision: values.deprovision,
      until: values.until,
    });
    if (!connector || !body.success) {
      console.error(`${connector ? body.error?.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ') : '--connector is required'}\n\n${usage}`);
      return 2;
    }
    const result =
      hub.kind === 'local'
        ? ((await callLocalAdmin(hub, 'POST', `/connectors/${encodeURIComponent(connector)}/provision`, {}, body.data)) as OnDemandResult)
        : await awsOnDemand(hub).provision(onDemandRequestOf(connector, body.data));
    console.log(values.json ? JSON.stringify(result) : formatOnDemandResult(result));
    return 0;
  }

  if (command === 'grants') {
    const grants =
      hub.kind === 'local'
        ? ((await callLocalAdmin(hub, 'GET', '/grants', { connector: values.connector })) as { grants: AccessGrant[] }).grants
        : await awsOnDemand(hub).grants.list(values.connector);
    if (values.json) for (const grant of grants) console.log(JSON.stringify(grant));
    else console.log(formatGrants(grants, new Date()));
    return 0;
  }

  if (command === 'audit') {
    const filters = {
      connector: values.connector,
      status: values.status,
      action: values.action,
      resource: values.resource,
      from: values.from,
      to: values.to,
      limit: values.limit ?? '50',
      cursor: values.cursor,
    };
    let page: { items: AuditEntry[]; next: string | undefined };
    if (hub.kind === 'local') {
      const body = (await callLocalAdmin(hub, 'GET', '/audit', filters)) as { items: AuditEntry[]; nextCursor?: string };
      page = { items: body.items, next: body.nextCursor };
    } else {
      const audit = new DynamoAuditLog(createDocumentClient(hub.dynamodb), hub.tableName, 90);
      page = await audit.query({
        connectorId: filters.connector,
        status: filters.status,
        action: filters.action,
        resourceId: filters.resource,
        from: filters.from,
        to: filters.to,
        limit: Number(filters.limit),
        cursor: filters.cursor,
      });
    }
    if (values.json) for (const entry of page.items) console.log(JSON.stringify(entry));
    else console.log(formatAuditTable(page.items));
    if (page.next) console.error(`more: --cursor ${page.next}`);
    return 0;
  }

  const id = connectorId as string;
  if (command === 'dlq') {
    if (hub.kind === 'local') {
      const body = (await callLocalAdmin(hub, 'GET', `/connectors/${encodeURIComponent(id)}/dead-letters`)) as {
        approximateCount: number;
        messages: Array<{ messageId: string; groupId?: string; receiveCount: number; sentAt?: string }>;
      };
      console.log(`${id}: ${body.approximateCount} dead-lettered message(s)`);
      for (const message of body.messages)
        console.log(`  ${message.sentAt ?? '-'}  group ${message.groupId ?? '-'}  received ${message.receiveCount}x  ${message.messageId}`);
      return 0;
    }
    const { names, dlqUrl } = await awsQueueUrls(hub, id);
    const attributes = await hub.sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
    console.log(`${names.dlq}: ${attributes.Attributes?.ApproximateNumberOfMessages ?? '0'} message(s)`);
    return 0;
  }

  const limit = values.limit;
  if (limit !== undefined && !/^[1-9]\d*$/.test(limit)) throw new Error(`--limit must be a positive whole number, not ${limit}`);
  const result =
    hub.kind === 'local'
      ? ((await callLocalAdmin(hub, 'POST', `/connectors/${encodeURIComponent(id)}/redrive`, { limit })) as {
          moved: number;
          remaining: number;
          stoppedBy: string;
        })
      : await (async () => {
          const { queueUrl, dlqUrl } = await awsQueueUrls(hub, id);
          return redriveWithinBudget(hub.sqs, dlqUrl, queueUrl, { max: limit ? Number(limit) : undefined });
        })();
  console.log(
    `moved ${result.moved} message(s) of ${id} back to its queue; ${result.remaining} remain in its DLQ${result.stoppedBy === 'budget' ? ' (stopped on the time budget: run it again)' : result.stoppedBy === 'returned' ? ' (the rest failed again after this redrive moved it: see `ops dlq`)' : ''}`,
  );
  return 0;
};

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
