import { resolve } from 'node:path';
import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import { connectorScheduleTriggers } from '#shared/topology/connector-schedules.ts';
import { environmentOf, IMPORT_BUCKET_NAME } from '#shared/topology/function-environment.ts';
import type { TableSpec } from '#shared/topology/table.spec.ts';
import type { FunctionSpec, Topology, FunctionTrigger } from '#shared/topology/topology.types.ts';
import { ConnectorLane } from './connector-lane.construct.ts';
import { operatorConsoleOf, type OperatorConsole } from './operator-console.ts';
import { HubDashboard } from './dashboard.construct.ts';
import { HubFunction } from './function-defaults.construct.ts';
import { HubBucket } from './hub-bucket.construct.ts';
import { applyGrants } from './function-grants.ts';
import { HubApi } from './hub-api.construct.ts';
import { type HubParameters, namePrefix } from './hub.parameters.ts';
import { HubTable } from './hub-table.construct.ts';
import { InvokeAccess } from './invoke-access.construct.ts';
import { HubOperations } from './operations.construct.ts';
import { ScheduleTriggerRule } from './schedule-trigger.construct.ts';
import { StreamSubscription } from './stream-subscription.construct.ts';
import { HubWebAcl } from './web-acl.construct.ts';
import { acknowledge } from './nag.ts';

export interface HubStackProps extends StackProps {
  topology: Topology;
  table: TableSpec;
  parameters: HubParameters;
  /** The directory holding package.json, package-lock.json and the topology's entry files. */
  projectRoot: string;
  /**
   * Where a function's handler module is. Defaults to the topology's `entry` under
   * `projectRoot`; tests that skip bundling may point an entry that is not written yet at a
   * stand-in, since only its existence is checked then.
   */
  resolveEntry?: (spec: FunctionSpec) => string;
}

const pascal = (name: string): string =>
  name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');

const assertNever = (value: never): never => {
  throw new Error(`unhandled trigger kind ${JSON.stringify(value)}`);
};

/**
 * The whole hub in one stack, built from the topology (the value the local runner runs):
 * the table, a lane per connector, a function per topology entry with the grants it lists,
 * each trigger as its AWS counterpart, and the operations around them.
 *
 * One stack rather than a stateful and a service stack: a connector lane is state (its queue)
 * and service (its mapping) at once, and across stacks every queue URL and the stream ARN
 * would become a CloudFormation export, which cannot change while imported, so adding or
 * retiring a connector would need two ordered deployments. The state is protected inside the
 * one stack instead: retained on delete, deletion protection, termination protection.
 */
export class HubStack extends Stack {
  readonly parameters: HubParameters;
  readonly table: HubTable;
  readonly lanes: ConnectorLane[] = [];
  /** The topology's buckets, by name. */
  readonly buckets = new Map<string, HubBucket>();
  readonly functions = new Map<string, HubFunction>();
  /** The managed policies operators need: calling the admin routes, invoking direct-invoke functions. */
  readonly operatorPolicies: iam.ManagedPolicy[] = [];
  readonly streams: StreamSubscription[] = [];
  readonly operations: HubOperations;
  readonly dashboard: HubDashboard;
  /** The REST API, made when the first HTTP trigger is bound; none without HTTP routes. */
  api: HubApi | undefined;
  /** The WAF web ACL on the API stage, unless enableWaf is false. */
  webAcl: HubWebAcl | undefined;
  /** The operators' console (hosting and sign-in pool), when the topology has `operator` routes. */
  readonly console: OperatorConsole | undefined;

  constructor(scope: Construct, id: string, props: HubStackProps) {
    const { topology, table, parameters: p, projectRoot, resolveEntry: entryOf, ...stackProps } = props;
    super(scope, id, {
      description: `SCIM 2.0 provisioning hub, stage ${p.stageName}`,
      terminationProtection: p.removalPolicy === 'retain',
      ...stackProps,
    });
    this.parameters = p;
    validateTopology(topology);
    const prefix = namePrefix(p);
    const removalPolicy = p.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const resolveEntry = entryOf ?? ((spec: FunctionSpec) => resolve(projectRoot, spec.entry));

    this.operations = new HubOperations(this, 'Operations', { topicName: `${prefix}-alarms`, alarmEmail: p.alarmEmail });

    this.table = new HubTable(this, 'Data', {
      spec: table,
      removalPolicy,
      // A stage that is meant to be destroyed must be destroyable.
      deletionProtection: p.removalPolicy === 'retain',
    });

    for (const spec of topology.queues) {
      for (const connectorId of spec.perConnector ? p.connectorIds : [undefined]) {
        const lane = new ConnectorLane(this, `Lane-${spec.name}${connectorId ? `-${connectorId}` : ''}`, {
          spec,
          connectorId,
          namePrefix: prefix,
          removalPolicy,
          alarmAction: this.operations.alarmAction,
        });
        this.operations.alarms.push(lane.dlqAlarm);
        this.lanes.push(lane);
      }
    }

    // The same shape the local runner gives the functions: {connectorId: queueUrl}.
    const connectorQueueUrls = this.toJsonString(
      Object.fromEntries(this.lanes.filter((lane) => lane.connectorId).map((lane) => [lane.connectorId, lane.queue.queueUrl])),
    );
    // The queues shared by all connectors (the reconcile queue of run pages): {queueName: queueUrl}.
    const hubQueueUrls = this.toJsonString(
      Object.fromEntries(this.lanes.filter((lane) => !lane.connectorId).map((lane) => [lane.spec.name, lane.queue.queueUrl])),
    );
    const connectorsParameter = ssm.StringParameter.fromStringParameterName(this, 'ConnectorsDocument', p.connectorsParameterName);
    for (const spec of topology.buckets ?? []) {
      this.buckets.set(spec.name, new HubBucket(this, `Bucket-${spec.name}`, { spec, removalPolicy, accessLogRetentionDays: p.logRetentionDays }));
    }
    this.console = operatorConsoleOf(this, topology, { namePrefix: prefix, projectRoot, removalPolicy, logRetentionDays: p.logRetentionDays });

    for (const spec of topology.functions) {
      const fn = new HubFunction(this, pascal(spec.name), {
        spec,
        entry: resolveEntry(spec),
        projectRoot,
        functionName: `${prefix}-${spec.name}`,
        // The variables its grants give, from the topology's contract (the local runner uses it too).
        environment: environmentOf(spec, {
          tableName: this.table.table.tableName,
          connectorQueueUrls,
          hubQueueUrls,
          connectorsDocument: { parameterName: p.connectorsParameterName },
          auditRetentionDays: p.auditRetentionDays,
          importBucket: this.buckets.get(IMPORT_BUCKET_NAME)?.bucket.bucketName ?? '',
          consoleOrigin: this.console?.hosting.origin ?? '',
        }),
        logLevel: p.logLevel,
        logRetentionDays: p.logRetentionDays,
        removalPolicy,
      });
      applyGrants(fn, {
        table: this.table.table,
        lanes: this.lanes,
        connectorsParameter,
        secretsNamePrefix: p.secretsNamePrefix,
        buckets: this.buckets,
      });
      this.operations.addFunctionAlarms(fn);
      this.functions.set(spec.name, fn);
    }

    for (const fn of this.functions.values()) {
      for (const trigger of fn.spec.triggers) this.bindTrigger(fn, trigger, prefix, removalPolicy);
    }
    for (const bucket of this.buckets.values()) bucket.acknowledgeNotificationHandler();

    if (this.api && this.console) this.console.deploy(this.api.api);

    if (this.api) {
      const routes = this.api.addIamRoutesPolicy(`${prefix}-admin-api-invoke`);
      if (routes) this.operatorPolicies.push(routes);
      if (p.enableWaf) {
        this.webAcl = new HubWebAcl(this, 'Firewall', {
          stageArn: this.api.api.deploymentStage.stageArn,
          rateLimit: p.wafRateLimit,
          metricPrefix: prefix,
        });
      } else {
        acknowledge(
          this.api.api,
          'AwsSolutions-APIG3',
          'The WAF web ACL is a deployment parameter (enableWaf, on by default) and was turned off for this stage on purpose, e.g. a test stage without the WAF cost.',
        );
      }
    }

    if (p.operatorsRoleName) {
      // The role is the account's (imported, not made here): the policies name it, so attaching
      // touches nothing else of it.
      const operators = iam.Role.fromRoleName(this, 'OperatorsRole', p.operatorsRoleName);
      for (const policy of this.operatorPolicies) policy.attachToRole(operators);
    }

    for (const connectorId of p.connectorIds) this.operations.addConnectorAlarms(connectorId);

    this.dashboard = new HubDashboard(this, 'Dashboard', {
      dashboardName: `${prefix}-operations`,
      connectorIds: p.connectorIds,
      functions: [...this.functions.values()],
      lanes: this.lanes,
      streams: this.streams,
      api: this.api?.api,
      alarms: this.operations.alarms,
    });

    new CfnOutput(this, 'TableName', { value: this.table.table.tableName, description: 'The hub table.' });
    for (const [name, bucket] of this.buckets) {
      new CfnOutput(this, `${pascal(name)}BucketName`, {
        value: bucket.bucket.bucketName,
        description: `The ${name} bucket: operators upload imports under imports/.`,
      });
    }
    new CfnOutput(this, 'AlarmTopicArn', { value: this.operations.topic.topicArn, description: 'Subscribe here for alarms.' });
    new CfnOutput(this, 'ConnectorsParameterName', {
      value: p.connectorsParameterName,
      description: `SSM parameter the functions read the connectors document from; secrets go under ${p.secretsNamePrefix} in Secrets Manager.`,
    });
  }

  private bindTrigger(fn: HubFunction, trigger: FunctionTrigger, prefix: string, removalPolicy: RemovalPolicy): void {
    switch (trigger.kind) {
      case 'http': {
        const api = this.restApi(prefix);
        for (const route of trigger.routes) api.addRoute(route, fn, trigger.auth, (name) => this.functionNamed(name));
        return;
      }
      case 'lambda-authorizer':
        // Bound when a route names it: an authorizer exists only in front of routes.
        return;
      case 'stream': {
        // A function could have several stream triggers (different filters); each is its own mapping.
        const index = fn.spec.triggers.filter((t) => t.kind === 'stream').indexOf(trigger);
        const suffix = index === 0 ? '' : `-${index}`;
        this.streams.push(
          new StreamSubscription(fn, `Stream${suffix}`, {
            table: this.table.table,
            consumer: fn,
            trigger,
            failureQueueName: `${prefix}-${fn.spec.name}-stream-failures${suffix}`,
            removalPolicy,
            alarmAction: this.operations.alarmAction,
          }),
        );
        this.operations.alarms.push(this.streams.at(-1)!.failuresAlarm);
        return;
      }
      case 'queue':
        for (const lane of this.lanes.filter((l) => l.spec.name === trigger.queue)) lane.addConsumer(fn, trigger);
        return;
      case 'schedule':
        new ScheduleTriggerRule(fn, `Schedule${fn.spec.triggers.indexOf(trigger)}`, { target: fn, trigger });
        return;
      case 'connector-schedule':
        for (const scheduled of connectorScheduleTriggers(this.parameters.reconcileSchedules)) {
          new ScheduleTriggerRule(fn, `Schedule-${String(scheduled.detail?.connectorId)}`, { target: fn, trigger: scheduled });
        }
        return;
      case 'object-created': {
        const bucket = this.buckets.get(trigger.bucket);
        if (!bucket) throw new Error(`${fn.spec.name} is triggered by bucket ${trigger.bucket}, which the topology does not declare`);
        bucket.notify(fn, trigger);
        return;
      }
      case 'invoke':
        this.operatorPolicies.push(new InvokeAccess(fn, 'Invoke', { target: fn, managedPolicyName: `${prefix}-invoke-${fn.spec.name}` }).policy);
        return;
      default:
        assertNever(trigger);
    }
  }

  private restApi(prefix: string): HubApi {
    this.api ??= new HubApi(this, 'Api', {
      restApiName: `${prefix}-api`,
      stageName: this.parameters.stageName,
      throttlingRateLimit: this.parameters.throttlingRateLimit,
      throttlingBurstLimit: this.parameters.throttlingBurstLimit,
      logRetentionDays: this.parameters.logRetentionDays,
      removalPolicy: this.parameters.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      operators: this.console?.routeAuth,
    });
    return this.api;
  }

  private functionNamed(name: string): HubFunction {
    const fn = this.functions.get(name);
    if (!fn) throw new Error(`no function named ${name} in the topology`);
    return fn;
  }
}

/** Mistakes in the topology that CloudFormation would only report at deploy time, or never. */
const validateTopology = (topology: Topology): void => {
  const problems: string[] = [];
  const names = new Set<string>();
  for (const fn of topology.functions) {
    if (names.has(fn.name)) problems.push(`function ${fn.name} is declared twice`);
    names.add(fn.name);
  }
  const queues = new Set(topology.queues.map((q) => q.name));
  for (const fn of topology.functions) {
    for (const trigger of fn.triggers) {
      if (trigger.kind === 'queue' && !queues.has(trigger.queue)) problems.push(`${fn.name} consumes unknown queue ${trigger.queue}`);
      if (trigger.kind !== 'http') continue;
      const { auth } = trigger;
      if (auth.type !== 'lambda') continue;
      const authorizer = topology.functions.find((f) => f.name === auth.authorizer);
      if (!authorizer?.triggers.some((t) => t.kind === 'lambda-authorizer')) {
        problems.push(`${fn.name} routes name ${auth.authorizer}, which is not a function with a lambda-authorizer trigger`);
      }
    }
  }
  if (problems.length > 0) throw new Error(`invalid topology: ${problems.join('; ')}`);
};
