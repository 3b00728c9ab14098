import { randomUUID } from 'node:crypto';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { makeConnectorCache } from '../connectors/connector.cache.ts';
import { createConnector } from '../connectors/connector.factory.ts';
import type { ConnectorsDocument } from '../connectors/connectors.schema.ts';
import { enqueueChange } from '../queues/sqs-lane.ts';
import { DynamoDirectoryStore } from '../store/directory.repository.ts';
import type { createDocumentClient } from '../store/dynamodb.client.ts';
import { DynamoGrantStore } from '../store/grant.repository.ts';
import { DynamoLinkStore } from '../store/link.repository.ts';
import { hubLookupOf, hubReaderOf } from '../sync/directory-hub.reader.ts';
import { makeGrantExpiry, makeProvisionOnDemand } from '../sync/on-demand.service.ts';
import type { AuditLog } from '../sync/sync.ports.ts';
import { makeSync } from '../sync/sync.service.ts';

export interface OnDemandWiringOptions {
  documents: ReturnType<typeof createDocumentClient>;
  tableName: string;
  sqs: SQSClient;
  audit: AuditLog;
  /** The connectors document (file locally, SSM parameter in AWS). */
  connectors: () => Promise<ConnectorsDocument>;
  /** The FIFO lane of a connector; undefined when it has none (not deployed with the stage). */
  queueUrl: (connectorId: string) => Promise<string | undefined>;
  clock?: () => Date;
}

/**
 * On-demand provisioning and the end of temporary access, wired to the table, the connectors
 * and the lanes: what the `provision-on-demand` and `grant-expiry` functions, the admin API and
 * the operations CLI (against an AWS stage) share. Built once per container.
 */
export const wireOnDemand = (options: OnDemandWiringOptions) => {
  const clock = options.clock ?? (() => new Date());
  const directory = new DynamoDirectoryStore(options.documents, options.tableName);
  const grants = new DynamoGrantStore(options.documents, options.tableName);
  const sync = makeSync({ hub: hubReaderOf(directory), links: new DynamoLinkStore(options.documents, options.tableName), audit: options.audit, grants, clock });
  const connectorOf = makeConnectorCache(createConnector);
  const provision = makeProvisionOnDemand({
    sync,
    hub: hubLookupOf(directory),
    grants,
    clock,
    audit: options.audit,
    connector: async (connectorId) => {
      const config = (await options.connectors()).connectors.find((c) => c.id === connectorId);
      if (!config || !(await options.queueUrl(connectorId))) return undefined;
      return { config, connector: await connectorOf(config) };
    },
    enqueue: async (message) => {
      const queueUrl = await options.queueUrl(message.connectorId);
      if (queueUrl) await enqueueChange(options.sqs, queueUrl, message, `on-demand:${randomUUID()}`);
    },
  });
  return { provision, grants, expireGrants: makeGrantExpiry({ grants, clock }) };
};
