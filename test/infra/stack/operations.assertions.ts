import { describe, expect, it } from 'vitest';
import { fullTopology } from '../fixtures/full.topology.ts';
import { functionLogicalId, json, resources, synthHub } from '../support/hub-synth.ts';

const { template } = synthHub({ topology: fullTopology });

type Alarm = {
  AlarmActions: unknown[];
  OKActions?: unknown[];
  MetricName?: string;
  Namespace?: string;
  Dimensions?: Array<{ Name: string; Value: unknown }>;
  Metrics?: Array<{ Id: string; Expression?: string; MetricStat?: { Metric: { MetricName: string; Namespace: string; Dimensions: unknown } } }>;
  Threshold: number;
  ComparisonOperator: string;
  TreatMissingData?: string;
};
const alarms = (t = template) => Object.values(resources(t, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties as unknown as Alarm);

/** The dashboard body, with its intrinsic Fn::Join flattened to text for inspection. */
const dashboardBody = (t = template): string => {
  const [dashboard] = Object.values(resources(t, 'AWS::CloudWatch::Dashboard'));
  const body = dashboard?.Properties?.DashboardBody as { 'Fn::Join': [string, unknown[]] };
  return body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : json(part))).join('');
};

describe('alarm topic', () => {
  it('is one SNS topic that refuses plain HTTP, without a subscription by default', () => {
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.hasResourceProperties('AWS::SNS::Topic', { TopicName: 'scim-hub-prod-alarms' });
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    const [policy] = Object.values(resources(template, 'AWS::SNS::TopicPolicy'));
    expect(json(policy)).toContain(json({ Bool: { 'aws:SecureTransport': 'false' } }));
  });

  it('subscribes the alarm email when one is given', () => {
    const { template: withEmail } = synthHub({ topology: fullTopology, context: { alarmEmail: 'ops@example.com' } });
    withEmail.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
  });
});

describe('alarms', () => {
  const [topicId] = Object.keys(resources(template, 'AWS::SNS::Topic'));

  it('all notify the topic, on alarm and when back to OK, and treat missing data as fine', () => {
    for (const alarm of alarms()) {
      expect(alarm.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(alarm.OKActions).toEqual([{ Ref: topicId }]);
      expect(alarm.TreatMissingData).toBe('notBreaching');
    }
  });

  it.each(fullTopology.functions.map((f) => f.name))('watches the errors of %s', (name) => {
    const found = alarms().filter(
      (a) => a.MetricName === 'Errors' && a.Namespace === 'AWS/Lambda' && json(a.Dimensions).includes(functionLogicalId(template, name)),
    );
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
  });

  it.each(['acme', 'okta'])('watches the error rate of connector %s from the Operations metric by status', (connector) => {
    // Act
    const found = alarms().filter((a) => a.Metrics?.some((m) => m.Expression?.includes(`failed_${connector}`)));
    // Assess
    expect(found).toHaveLength(1);
    const stats = found[0]!.Metrics!.filter((m) => m.MetricStat).map((m) => m.MetricStat!.Metric);
    expect(stats).toEqual(
      expect.arrayContaining(
        ['success', 'failed', 'dead-lettered'].map((status) => ({
          MetricName: 'Operations',
          Namespace: 'ScimHub',
          Dimensions: expect.arrayContaining([
            { Name: 'connector', Value: connector },
            { Name: 'status', Value: status },
          ]),
        })),
      ),
    );
    expect(found[0]).toMatchObject({ Threshold: 5, ComparisonOperator: 'GreaterThanThreshold' });
  });

  it.each(['acme', 'okta'])('alarms when connector %s is quarantined', (connector) => {
    const found = alarms().filter((a) => a.MetricName === 'Quarantined' && a.Namespace === 'ScimHub');
    expect(found.filter((a) => json(a.Dimensions) === json([{ Name: 'connector', Value: connector }]))).toEqual([
      expect.objectContaining({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' }),
    ]);
  });

  it.each(['acme', 'okta'])('alarms when a reconciliation run of connector %s waits for approval at the deletion threshold', (connector) => {
    const found = alarms().filter((a) => a.MetricName === 'RunsAwaitingApproval' && a.Namespace === 'ScimHub');
    expect(found.filter((a) => json(a.Dimensions) === json([{ Name: 'connector', Value: connector }]))).toEqual([
      expect.objectContaining({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' }),
    ]);
  });

  it('counts: errors per function, DLQ per lane, error rate, quarantine and runs awaiting approval per connector, stream failures', () => {
    // 8 functions, 2 lanes, 2 connectors x 3, 1 stream
    expect(alarms()).toHaveLength(8 + 2 + 6 + 1);
  });
});

describe('dashboard', () => {
  it('is one dashboard named after the stage', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'scim-hub-prod-operations' });
  });

  it('shows operations per connector by status, found by a search over the ScimHub namespace', () => {
    expect(dashboardBody()).toContain(`SEARCH('Namespace=\\"ScimHub\\" MetricName=\\"Operations\\" connector status', 'Sum', 300)`);
  });

  it('shows the error rate and the propagation latency of every connector', () => {
    const body = dashboardBody();
    for (const connector of ['acme', 'okta']) {
      expect(body).toContain(`${connector} error rate (%)`);
      expect(body).toContain(`"PropagationLatency","connector","${connector}"`);
    }
    expect(body).toContain('"stat":"p99"');
  });

  it('shows the DLQ depth of every lane, API 4xx, 5xx and latency, and Lambda errors, throttles and durations per function', () => {
    const body = dashboardBody();
    for (const widget of ['Dead-letter queue depth per lane', 'API requests, 4xx and 5xx', 'Lambda errors', 'Lambda throttles', 'Lambda duration (ms, p99)']) {
      expect(body).toContain(widget);
    }
    for (const metric of ['"4XXError"', '"5XXError"', '"Count"', '"Throttles"', '"Duration"', '"Errors"']) expect(body).toContain(metric);
    for (const name of fullTopology.functions.map((f) => f.name)) expect(body).toContain(`"label":"${name}"`);
    for (const connector of ['acme', 'okta']) {
      const dlq = Object.entries(resources(template, 'AWS::SQS::Queue')).find(
        ([, q]) => q.Properties?.QueueName === `scim-hub-prod-connector-${connector}-dlq.fifo`,
      )![0];
      expect(body).toContain(dlq);
    }
  });

  it('leaves out the graphs that would be empty without connectors, since CloudWatch refuses an empty metric widget', () => {
    // Act
    const { template: none } = synthHub({ topology: fullTopology, context: { connectorIds: '' } });
    // Assess
    expect(dashboardBody(none)).not.toContain('"metrics":[]');
    expect(dashboardBody(none)).not.toContain('Error rate per connector');
    expect(dashboardBody(none)).toContain('Lambda errors');
  });
});

describe('operator commands against a stage', () => {
  it('name the very queues the stack makes for each connector of the stage', async () => {
    // Prepare
    const { stageQueueNames } = await import('../../../infra/cli/stage-queue-names.ts');
    const { template: staging } = synthHub({ context: { stageName: 'staging', connectorIds: 'acme,okta' } });
    const queueNames = Object.values(resources(staging, 'AWS::SQS::Queue')).map((q) => q.Properties?.QueueName);
    // Assess
    for (const id of ['acme', 'okta']) {
      const names = stageQueueNames('staging', id);
      expect(queueNames).toContain(names.queue);
      expect(queueNames).toContain(names.dlq);
    }
  });
});
