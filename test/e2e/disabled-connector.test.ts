import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localAwsConfig } from '../../infra/local/local-aws.ts';
import { DynamoAuditLog } from '../../shared/store/audit.repository.ts';
import { createDocumentClient } from '../../shared/store/dynamodb.client.ts';
import { eventually } from '../support/eventually.ts';
import { startHubProcess } from '../support/hub-process.ts';
import { scimClient, startTestHub } from '../support/local-hub.ts';

/**
 * A disabled connector loses nothing: changes made while it is disabled are held on its lane,
 * untried and not dead-lettered, and reach the target once it is enabled again.
 */
const TARGET_TOKEN = 'target-token-disabled-0123456789';
/** The worker reads the connectors document again every second here (60 s by default). */
const REFRESH_SECONDS = 1;
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const user = (userName: string) => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  userName,
  name: { givenName: 'Given', familyName: 'Family' },
  active: true,
});

describe('a disabled connector holds its changes and applies them when enabled again', () => {
  let target: Awaited<ReturnType<typeof startHubProcess>>;
  let hub: Awaited<ReturnType<typeof startTestHub>>;
  let sqs: SQSClient;
  const connectorsFile = join(tmpdir(), `connectors-disabled-${Date.now()}.json`);
  const writeConnectors = (enabled: boolean) =>
    writeFileSync(
      connectorsFile,
      JSON.stringify({ connectors: [{ id: 'paused', type: 'scim', enabled, baseUrl: target.scim, bearerToken: TARGET_TOKEN, deprovision: 'disable' }] }),
    );
  const hubApi = () => scimClient(hub.scim);
  const targetApi = () => scimClient(target.scim, TARGET_TOKEN);
  const targetUser = async (userName: string) =>
    (await targetApi().get(`/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`)).json.Resources[0] as Record<string, unknown> | undefined;
  const depth = async (url: string | undefined) => {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    return Number(Attributes?.ApproximateNumberOfMessages ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
  };
  /** Waits out the worker's document refresh, so the next change meets the document just written. */
  const refreshed = () => new Promise((r) => setTimeout(r, REFRESH_SECONDS * 1000 * 2));

  beforeAll(async () => {
    target = await startHubProcess(TARGET_TOKEN);
    writeConnectors(true);
    hub = await startTestHub('disabled-connector', {
      connectorIds: ['paused'],
      environment: { CONNECTORS_FILE: connectorsFile, CONNECTORS_REFRESH_SECONDS: String(REFRESH_SECONDS) },
    });
    sqs = new SQSClient({ ...localAwsConfig, endpoint: hub.endpoints.sqs });
  }, 120_000);

  afterAll(async () => {
    sqs?.destroy();
    await hub?.stop();
    await target?.stop();
  });

  it('deactivates one account and changes another after re-enabling, dead-lettering nothing', async () => {
    // Prepare: two users provisioned while the connector is enabled
    const ada = (await hubApi().post('/Users', user('ada.paused@example.com'))).json.id as string;
    const bob = (await hubApi().post('/Users', user('bob.paused@example.com'))).json.id as string;
    await eventually(
      async () => {
        expect(await targetUser('ada.paused@example.com')).toMatchObject({ active: true });
        expect(await targetUser('bob.paused@example.com')).toMatchObject({ name: { familyName: 'Family' } });
      },
      60_000,
      250,
    );
    const lane = hub.queues.find((q) => q.connectorId === 'paused');

    // Act: disable, deactivate ada and rename bob, while disabled
    writeConnectors(false);
    await refreshed();
    expect((await hubApi().patch(`/Users/${ada}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] })).status).toBe(200);
    expect(
      (await hubApi().patch(`/Users/${bob}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'name.familyName', value: 'Renamed' }] })).status,
    ).toBe(200);

    // Assess: both changes wait on the lane, untried; the target is as it was
    await eventually(async () => expect(await depth(lane?.url)).toBe(2), 30_000, 250);
    await refreshed();
    expect(await targetUser('ada.paused@example.com')).toMatchObject({ active: true });
    expect(await targetUser('bob.paused@example.com')).toMatchObject({ name: { familyName: 'Family' } });

    // Act: enable again
    writeConnectors(true);

    // Assess: the account ends disabled and the change arrives; nothing dead-lettered or failed
    await eventually(
      async () => {
        expect(await targetUser('ada.paused@example.com')).toMatchObject({ active: false });
        expect(await targetUser('bob.paused@example.com')).toMatchObject({ name: { familyName: 'Renamed' } });
      },
      60_000,
      250,
    );
    expect(await depth(lane?.dlqUrl)).toBe(0);
    const audit = new DynamoAuditLog(createDocumentClient(new DynamoDBClient({ ...localAwsConfig, endpoint: hub.endpoints.dynamodb })), hub.tableName, 1);
    const records = (await audit.query({ connectorId: 'paused', limit: 100 })).items;
    expect(records.filter((r) => r.status === 'dead-lettered' || r.status === 'failed' || r.status === 'retrying')).toEqual([]);
    // The deactivation went out once, as the change of `active` it is.
    const deactivations = records.filter((r) => r.resourceId === ada && r.changes?.some((c) => c.attribute === 'active' && c.new === false));
    expect(deactivations.map((r) => r.status)).toEqual(['success']);
  }, 180_000);
});
