import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { FUNCTION_TAG } from '../../infra/aws/function-defaults.construct.ts';
import { projectRoot } from '../../infra/aws/hub.app.ts';
import { awsTriggerKinds } from '../../infra/aws/trigger-kinds.ts';
import { hubTopology } from '../../shared/topology/hub.topology.ts';
import type { FunctionSpec, Topology, FunctionTrigger } from '../../shared/topology/topology.types.ts';
import { fullTopology } from './fixtures/full.topology.ts';
import { functionLogicalId, json, resourcePath, resources, roleActions, roleStatements, synthHub } from './support/hub-synth.ts';

const CONNECTORS = ['acme', 'okta'];
/** The reconciliation schedules the synthesized stages get (test/infra/support/hub-synth.ts). */
const SCHEDULES = { acme: 'cron(0 2 * * ? *)', okta: 'rate(6 hours)' };

/**
 * The resources that carry one trigger of one function in the template; empty means the
 * trigger was not deployed.
 */
const counterparts = (template: Template, topology: Topology, fn: FunctionSpec, trigger: FunctionTrigger): unknown[] => {
  const id = functionLogicalId(template, fn.name);
  const ref = json({ Ref: id });
  const arn = json({ 'Fn::GetAtt': [id, 'Arn'] });
  const of = (type: string) => Object.values(resources(template, type)).map((r) => r.Properties ?? {});
  switch (trigger.kind) {
    case 'http': {
      // One method per route, at the route's path, of the route's HTTP method (a function may have several HTTP triggers).
      const paths = trigger.routes.map((route) => route.path);
      const methods = of('AWS::ApiGateway::Method').filter(
        (m) => json(m.Integration).includes(arn) && paths.includes(resourcePath(template, (m.ResourceId as { Ref: string }).Ref)),
      );
      return trigger.routes.every((route) => methods.some((m) => m.HttpMethod === route.method)) && methods.length === trigger.routes.length ? methods : [];
    }
    case 'lambda-authorizer':
      return of('AWS::ApiGateway::Authorizer').filter(
        (a) =>
          json(a.AuthorizerUri).includes(arn) &&
          a.Type === 'REQUEST' &&
          a.IdentitySource === `method.request.header.${trigger.identityHeader}` &&
          a.AuthorizerResultTtlInSeconds === trigger.resultsCacheTtlSeconds,
      );
    case 'stream':
      return of('AWS::Lambda::EventSourceMapping').filter((m) => json(m.FunctionName) === ref && json(m.EventSourceArn).includes('StreamArn'));
    case 'queue': {
      const spec = topology.queues.find((q) => q.name === trigger.queue)!;
      const lanes = spec.perConnector ? CONNECTORS.length : 1;
      const mappings = of('AWS::Lambda::EventSourceMapping').filter((m) => json(m.FunctionName) === ref && !json(m.EventSourceArn).includes('StreamArn'));
      return mappings.length === lanes ? mappings : [];
    }
    case 'schedule':
      return of('AWS::Events::Rule').filter((r) => r.ScheduleExpression === trigger.expression && json(r.Targets).includes(arn));
    case 'connector-schedule': {
      // One rule per scheduled connector (hub-synth schedules acme), its detail naming the connector.
      const rules = of('AWS::Events::Rule').filter((r) => json(r.Targets).includes(arn) && json(r.Targets).includes('connectorId'));
      return rules.length === Object.keys(SCHEDULES).length && rules.every((r) => Object.values(SCHEDULES).includes(String(r.ScheduleExpression))) ? rules : [];
    }
    case 'object-created':
      // CDK writes notifications through its Custom::S3BucketNotifications resource: one Lambda configuration per suffix.
      return of('Custom::S3BucketNotifications').filter((n) => {
        const configurations = json(n.NotificationConfiguration);
        return configurations.includes(arn) && trigger.suffixes.every((suffix) => configurations.includes(suffix)) && configurations.includes(trigger.prefix);
      });
    case 'invoke':
      return of('AWS::IAM::ManagedPolicy').filter((p) => json(p.PolicyDocument).includes('lambda:InvokeFunction') && json(p.PolicyDocument).includes(arn));
  }
};

const runnerSource = readFileSync(resolve(projectRoot, 'infra/local/runner.ts'), 'utf8');
/** The trigger kinds the local runner's switch has a case for. */
const localTriggerKinds = new Set([...runnerSource.matchAll(/case '([a-z-]+)':/g)].map((match) => match[1]));

describe.each([
  ['THE hub topology', hubTopology],
  ['the full fixture topology', fullTopology],
] as const)('%s', (_name, topology) => {
  const { template, standIns } = synthHub({ topology });

  it('deploys every function as a Lambda function', () => {
    if (standIns.length > 0) console.warn(`entries not written yet, synthesized with a stand-in: ${standIns.join(', ')}`);
    // The topology's functions are tagged; CDK's own handlers (the console's bucket deployment) are not.
    const tagged = Object.values(resources(template, 'AWS::Lambda::Function')).filter((r) =>
      ((r.Properties.Tags as Array<{ Key: string }> | undefined) ?? []).some((tag) => tag.Key === FUNCTION_TAG),
    );
    expect(tagged).toHaveLength(topology.functions.length);
    for (const fn of topology.functions) expect(() => functionLogicalId(template, fn.name), fn.name).not.toThrow();
  });

  it.each(topology.functions.flatMap((fn) => fn.triggers.map((trigger) => [`${fn.name} ${trigger.kind}`, fn, trigger] as const)))(
    'deploys the trigger %s',
    (_label, fn, trigger) => {
      expect(counterparts(template, topology, fn, trigger)).not.toEqual([]);
    },
  );

  it('uses only trigger kinds that both the AWS stack and the local runner handle', () => {
    const used = new Set(topology.functions.flatMap((fn) => fn.triggers.map((t) => t.kind)));
    for (const kind of used) {
      expect(awsTriggerKinds, `AWS stack: ${kind}`).toContain(kind);
      expect([...localTriggerKinds], `infra/local/runner.ts: ${kind}`).toContain(kind);
    }
  });
});

describe('THE hub grants', () => {
  const { template } = synthHub({ topology: hubTopology });
  const tableActions = (name: string) =>
    roleActions(template, name).filter((action) => action.startsWith('dynamodb:') && !action.includes('Stream') && action !== 'dynamodb:ListStreams');

  it('let the deletion drain read its stream and write the table (it deletes memberships and moves its cursor), never token items', () => {
    expect(tableActions('deletion-drain')).toEqual(
      expect.arrayContaining(['dynamodb:Query', 'dynamodb:BatchWriteItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem']),
    );
    expect(roleStatements(template, 'deletion-drain').filter((s) => json(s.Resource).includes('StreamArn'))).not.toEqual([]);
    expect(json(roleStatements(template, 'deletion-drain').filter((s) => s.Effect === 'Deny'))).toContain('TOKEN#');
  });

  it('let the fanout read the table (whether a group still exists) and write nothing to it', () => {
    expect(tableActions('fanout')).toContain('dynamodb:BatchGetItem');
    for (const write of ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem']) {
      expect(tableActions('fanout')).not.toContain(write);
    }
  });
});

describe('the twins', () => {
  it('handle the same trigger kinds: every kind of the vocabulary, in the stack and in the local runner', () => {
    expect([...localTriggerKinds].sort()).toEqual([...awsTriggerKinds].sort());
  });
});
