import { describe, expect, it } from 'vitest';
import { hubTopology } from '../../../shared/topology/hub.topology.ts';
import { functionLogicalId, json, resources, roleStatements, synthHub } from '../support/hub-synth.ts';

/** THE hub topology's on-demand provisioning and the end of temporary access, as the stack deploys them. */
const { template } = synthHub({ topology: hubTopology });

describe('on-demand provisioning in the stack', () => {
  const fnArn = () => ({ 'Fn::GetAtt': [functionLogicalId(template, 'provision-on-demand'), 'Arn'] });

  it('deploys provision-on-demand with a managed policy that lets operators invoke exactly that function, and outputs its name and ARN', () => {
    // Prepare
    const outputs = Object.values(template.toJSON().Outputs as Record<string, { Value: unknown }>).map((o) => json(o.Value));
    const invokers = Object.values(resources(template, 'AWS::IAM::ManagedPolicy')).filter((p) =>
      json(p.Properties?.PolicyDocument).includes('lambda:InvokeFunction'),
    );
    // Assess
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      ManagedPolicyName: 'scim-hub-prod-invoke-provision-on-demand',
      PolicyDocument: { Statement: [{ Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: fnArn() }] },
    });
    expect(invokers.map((p) => p.Properties?.ManagedPolicyName)).toEqual(['scim-hub-prod-invoke-provision-on-demand']);
    expect(outputs).toEqual(expect.arrayContaining([json({ Ref: functionLogicalId(template, 'provision-on-demand') }), json(fnArn())]));
  });

  it("attaches the invoke policy and the admin routes policy to the operators' role when the stage names one, and to nothing otherwise", () => {
    // Prepare
    const { template: withRole } = synthHub({ topology: hubTopology, context: { operatorsRoleName: 'hub-operators' } });
    const attached = (t: typeof template) =>
      Object.values(resources(t, 'AWS::IAM::ManagedPolicy'))
        .filter((p) => json(p.Properties?.Roles).includes('hub-operators'))
        .map((p) => p.Properties?.ManagedPolicyName)
        .sort();
    // Assess
    expect(attached(withRole)).toEqual(['scim-hub-prod-admin-api-invoke', 'scim-hub-prod-invoke-provision-on-demand']);
    expect(attached(template)).toEqual([]);
  });

  it('lets provision-on-demand write the table but not its tokens, send to the lanes, and read the connector secrets', () => {
    // Prepare
    const statements = roleStatements(template, 'provision-on-demand');
    const denials = statements.filter((s) => s.Effect === 'Deny');
    const sends = statements.filter((s) => json(s.Action).includes('sqs:SendMessage'));
    // Assess
    expect(json(statements)).toContain('dynamodb:PutItem');
    expect(json(denials)).toContain('TOKEN#*');
    expect(sends).toHaveLength(1);
    expect(json(sends[0]?.Resource)).toContain('Laneconnector');
    expect(json(statements)).not.toContain('sqs:ReceiveMessage');
    expect(json(statements)).toContain(':secret:scim-hub/prod/*');
  });

  it('ends temporary access every minute: an EventBridge rule on grant-expiry', () => {
    const rules = Object.values(resources(template, 'AWS::Events::Rule')).filter((r) =>
      json(r.Properties?.Targets).includes(json({ 'Fn::GetAtt': [functionLogicalId(template, 'grant-expiry'), 'Arn'] })),
    );

    expect(rules.map((r) => r.Properties?.ScheduleExpression)).toEqual(['rate(1 minute)']);
  });

  it('carries the end of a grant on the stream: the fanout filter takes grant items', () => {
    const [mapping] = Object.values(resources(template, 'AWS::Lambda::EventSourceMapping')).filter((m) =>
      json(m.Properties?.EventSourceArn).includes('StreamArn'),
    );

    expect(json(mapping?.Properties?.FilterCriteria)).toContain('GRANT');
  });
});
