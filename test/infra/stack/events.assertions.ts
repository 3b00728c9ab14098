import { describe, expect, it } from 'vitest';
import { laneMaxConcurrency } from '../../../shared/connectors/resilience/lane-concurrency.ts';
import { queueNames } from '../../../shared/topology/queue-names.ts';
import type { QueueSpec, ScheduleTrigger, StreamTrigger, Topology } from '../../../shared/topology/topology.types.ts';
import { fullTopology } from '../fixtures/full.topology.ts';
import { functionLogicalId, json, resources, synthHub } from '../support/hub-synth.ts';

const { template } = synthHub({ topology: fullTopology });
const laneSpec = fullTopology.queues[0] as QueueSpec;

const queueByName = (name: string) => {
  const found = Object.entries(resources(template, 'AWS::SQS::Queue')).find(([, q]) => q.Properties?.QueueName === name);
  if (!found) throw new Error(`no queue named ${name}`);
  return { id: found[0], properties: found[1].Properties ?? {}, resource: found[1] };
};

const mappingsOf = (name: string) =>
  Object.values(resources(template, 'AWS::Lambda::EventSourceMapping'))
    .map((m) => m.Properties ?? {})
    .filter((m) => json(m.FunctionName) === json({ Ref: functionLogicalId(template, name) }));

describe('stream trigger', () => {
  const trigger = fullTopology.functions.find((f) => f.name === 'fanout')!.triggers[0] as StreamTrigger;

  it('maps the table stream to the function with the trigger settings and its filters as filter criteria', () => {
    // Prepare
    const [tableId] = Object.keys(resources(template, 'AWS::DynamoDB::Table'));
    // Act
    const [mapping, ...others] = mappingsOf('fanout');
    // Assess
    expect(others).toEqual([]);
    expect(mapping).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': [tableId, 'StreamArn'] },
      StartingPosition: trigger.startingPosition,
      BatchSize: trigger.batchSize,
      MaximumBatchingWindowInSeconds: trigger.maxBatchingWindowSeconds,
      MaximumRetryAttempts: trigger.maxRetryAttempts,
      BisectBatchOnFunctionError: trigger.bisectBatchOnError,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      FilterCriteria: { Filters: trigger.filters.map((pattern) => ({ Pattern: JSON.stringify(pattern) })) },
    });
  });

  it('sends the batches it gives up on to an on-failure queue, with an alarm on it', () => {
    // Prepare
    const failures = queueByName('scim-hub-prod-fanout-stream-failures');
    // Act
    const [mapping] = mappingsOf('fanout');
    // Assess
    expect(mapping?.DestinationConfig).toEqual({ OnFailure: { Destination: { 'Fn::GetAtt': [failures.id, 'Arn'] } } });
    expect(failures.properties).toMatchObject({ MessageRetentionPeriod: 14 * 86_400, SqsManagedSseEnabled: true });
    const alarms = Object.values(resources(template, 'AWS::CloudWatch::Alarm')).filter((a) => json(a.Properties?.Dimensions).includes(failures.id));
    expect(alarms).toHaveLength(1);
  });
});

describe('connector lanes', () => {
  it.each(['acme', 'okta'])('gives connector %s a FIFO queue and a FIFO DLQ named by queueNames, behind the stage prefix', (connector) => {
    // Prepare
    const names = queueNames(laneSpec, connector);
    // Act
    const queue = queueByName(`scim-hub-prod-${names.queue}`);
    const dlq = queueByName(`scim-hub-prod-${names.dlq}`);
    // Assess
    expect(names.queue).toBe(`connector-${connector}.fifo`);
    expect(queue.properties).toMatchObject({
      FifoQueue: true,
      ContentBasedDeduplication: false,
      VisibilityTimeout: laneSpec.visibilityTimeoutSeconds,
      MessageRetentionPeriod: laneSpec.retentionDays * 86_400,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlq.id, 'Arn'] }, maxReceiveCount: laneSpec.maxReceiveCount },
      SqsManagedSseEnabled: true,
    });
    expect(dlq.properties).toMatchObject({ FifoQueue: true, MessageRetentionPeriod: 14 * 86_400, SqsManagedSseEnabled: true });
    expect(queue.resource.DeletionPolicy).toBe('Retain');
  });

  it('refuses plain HTTP on every queue', () => {
    // Prepare
    const policies = Object.values(resources(template, 'AWS::SQS::QueuePolicy'));
    const queues = Object.keys(resources(template, 'AWS::SQS::Queue'));
    // Assess
    for (const queue of queues) {
      const policy = policies.find((p) => json(p.Properties?.Queues).includes(`"${queue}"`));
      expect(json(policy?.Properties?.PolicyDocument), queue).toContain(json({ Bool: { 'aws:SecureTransport': 'false' } }));
    }
  });

  it('maps each lane to the worker with the batch size and partial batch responses', () => {
    // Act
    const mappings = mappingsOf('connector-worker');
    // Assess
    expect(mappings.map((m) => json(m.EventSourceArn)).sort()).toEqual(
      ['acme', 'okta'].map((c) => json({ 'Fn::GetAtt': [queueByName(`scim-hub-prod-connector-${c}.fifo`).id, 'Arn'] })).sort(),
    );
    for (const mapping of mappings) expect(mapping).toMatchObject({ BatchSize: 10, FunctionResponseTypes: ['ReportBatchItemFailures'] });
  });

  it('caps each lane at the containers its rate limits are shared by', () => {
    for (const mapping of mappingsOf('connector-worker')) expect(mapping).toMatchObject({ ScalingConfig: { MaximumConcurrency: laneMaxConcurrency() } });
    expect(laneMaxConcurrency()).toBe(2);
  });

  it('alarms as soon as a lane DLQ holds a message', () => {
    for (const connector of ['acme', 'okta']) {
      const dlq = queueByName(`scim-hub-prod-connector-${connector}-dlq.fifo`);
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Namespace: 'AWS/SQS',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlq.id, 'QueueName'] } }],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
    }
  });

  it('makes one lane per connector id, and none without connectors', () => {
    // Act
    const { template: three } = synthHub({ topology: fullTopology, context: { connectorIds: 'acme,okta,entra' } });
    const { template: none } = synthHub({ topology: fullTopology, context: { connectorIds: '' } });
    // Assess: queue + DLQ per lane, and the stream failure queue
    three.resourceCountIs('AWS::SQS::Queue', 3 * 2 + 1);
    none.resourceCountIs('AWS::SQS::Queue', 1);
    none.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
  });

  it('refuses a lane whose visibility timeout is shorter than its consumer timeout', () => {
    // Prepare
    const shortLane: Topology = { ...fullTopology, queues: [{ ...laneSpec, visibilityTimeoutSeconds: 30 }] };
    // Act, Assess
    expect(() => synthHub({ topology: shortLane })).toThrow(/visibility timeout 30 s is shorter than the timeout of connector-worker/);
  });
});

describe('schedule trigger', () => {
  const trigger = fullTopology.functions.find((f) => f.name === 'reconcile')!.triggers[0] as ScheduleTrigger;

  it('runs the function on the expression with the scheduled event carrying the topology detail', () => {
    // Prepare
    const [rule, ...others] = Object.values(resources(template, 'AWS::Events::Rule'));
    const [target] = rule!.Properties.Targets as Array<{ Arn: unknown; InputTransformer: { InputTemplate: string; InputPathsMap: Record<string, string> } }>;
    // Assess
    expect(others).toEqual([]);
    expect(rule?.Properties).toMatchObject({ ScheduleExpression: trigger.expression, State: 'ENABLED' });
    expect(target?.Arn).toEqual({ 'Fn::GetAtt': [functionLogicalId(template, 'reconcile'), 'Arn'] });
    // The same shape the local scheduler sends: an EventBridge scheduled event whose detail is the topology's.
    expect(target?.InputTransformer.InputTemplate).toContain(`"detail":${JSON.stringify(trigger.detail)}`);
    expect(target?.InputTransformer.InputPathsMap).toMatchObject({ 'detail-type': '$.detail-type', time: '$.time', resources: '$.resources' });
  });

  it('lets EventBridge invoke the function', () => {
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [functionLogicalId(template, 'reconcile'), 'Arn'] },
    });
  });
});

describe('invoke trigger', () => {
  it('outputs the function name and ARN and a managed policy to invoke exactly that function', () => {
    // Prepare
    const fnId = functionLogicalId(template, 'on-demand');
    const outputs = Object.values(template.toJSON().Outputs as Record<string, { Value: unknown }>).map((o) => json(o.Value));
    // Assess
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      ManagedPolicyName: 'scim-hub-prod-invoke-on-demand',
      PolicyDocument: { Statement: [{ Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: { 'Fn::GetAtt': [fnId, 'Arn'] } }] },
    });
    expect(outputs).toEqual(expect.arrayContaining([json({ Ref: fnId }), json({ 'Fn::GetAtt': [fnId, 'Arn'] })]));
  });

  it('adds no trigger resource: no mapping, rule or permission for the function', () => {
    // Prepare
    const fn = json({ Ref: functionLogicalId(template, 'on-demand') });
    const fnArn = json({ 'Fn::GetAtt': [functionLogicalId(template, 'on-demand'), 'Arn'] });
    // Assess
    expect(mappingsOf('on-demand')).toEqual([]);
    for (const type of ['AWS::Lambda::Permission', 'AWS::Events::Rule']) {
      expect(json(resources(template, type))).not.toContain(fnArn);
      expect(json(resources(template, type))).not.toContain(fn);
    }
  });
});
