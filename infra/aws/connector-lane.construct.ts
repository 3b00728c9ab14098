import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { laneMaxConcurrency } from '#shared/connectors/resilience/lane-concurrency.ts';
import { queueNames } from '#shared/topology/queue-names.ts';
import type { QueueSpec, QueueTrigger } from '#shared/topology/topology.types.ts';
import type { HubFunction } from './function-defaults.construct.ts';

export interface ConnectorLaneProps {
  spec: QueueSpec;
  /** The connector this lane carries work for; undefined for a queue shared by all connectors. */
  connectorId: string | undefined;
  /** Stage prefix of the physical names, so that two stages can share an account and Region. */
  namePrefix: string;
  removalPolicy: RemovalPolicy;
  /** Where the DLQ alarm notifies. */
  alarmAction: cloudwatch.IAlarmAction;
}

/** How long a message that exhausted its receives stays in the DLQ for an operator: the SQS maximum. */
const DLQ_RETENTION = Duration.days(14);

/**
 * One lane of work: a queue of the topology (FIFO for connectors, so that changes to one
 * resource stay in order: `MessageGroupId` is the resource id) with its dead-letter queue and
 * redrive policy, the consumers' event source mappings, and an alarm as soon as anything lands
 * in the DLQ. Per-connector queues get one lane per connector, so a slow or failing target only
 * holds up its own lane.
 *
 * Names come from `queueNames` (shared with the local runner) behind the stage prefix.
 */
export class ConnectorLane extends Construct {
  readonly spec: QueueSpec;
  readonly connectorId: string | undefined;
  readonly queue: sqs.Queue;
  readonly dlq: sqs.Queue;
  readonly dlqAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ConnectorLaneProps) {
    super(scope, id);
    this.spec = props.spec;
    this.connectorId = props.connectorId;
    const names = queueNames(props.spec, props.connectorId);
    const fifo = props.spec.fifo ? { fifo: true, contentBasedDeduplication: false } : {};

    this.dlq = new sqs.Queue(this, 'Dlq', {
      queueName: `${props.namePrefix}-${names.dlq}`,
      ...fifo,
      retentionPeriod: DLQ_RETENTION,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      removalPolicy: props.removalPolicy,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      queueName: `${props.namePrefix}-${names.queue}`,
      ...fifo,
      visibilityTimeout: Duration.seconds(props.spec.visibilityTimeoutSeconds),
      retentionPeriod: Duration.days(props.spec.retentionDays),
      deadLetterQueue: { queue: this.dlq, maxReceiveCount: props.spec.maxReceiveCount },
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      removalPolicy: props.removalPolicy,
    });

    const lane = props.connectorId ? `connector ${props.connectorId}` : `queue ${props.spec.name}`;
    this.dlqAlarm = new cloudwatch.Alarm(this, 'DlqNotEmpty', {
      alarmDescription: `Messages in the dead-letter queue of ${lane} (${names.dlq}): work that failed ${props.spec.maxReceiveCount} times. Inspect, fix, then redrive.`,
      metric: this.dlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.dlqAlarm.addAlarmAction(props.alarmAction);
    this.dlqAlarm.addOkAction(props.alarmAction);
  }

  /** Subscribes a function to this lane with partial batch responses, as the trigger says. */
  addConsumer(consumer: HubFunction, trigger: QueueTrigger): void {
    // SQS makes a message visible again when its visibility timeout ends: shorter than the
    // function's timeout, a message still being worked on would be delivered twice.
    if (this.spec.visibilityTimeoutSeconds < consumer.spec.timeoutSeconds) {
      throw new Error(
        `queue ${this.spec.name}: visibility timeout ${this.spec.visibilityTimeoutSeconds} s is shorter than the timeout of ${consumer.spec.name} (${consumer.spec.timeoutSeconds} s)`,
      );
    }
    consumer.fn.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: trigger.batchSize,
        reportBatchItemFailures: trigger.reportBatchItemFailures,
        // A connector lane's containers share its rate limits (each meters its share): cap them.
        // The connectors document is not known at synth, hence the rate-less minimum; see
        // lane-concurrency.ts for why and for the initial-load arithmetic.
        ...(this.connectorId ? { maxConcurrency: laneMaxConcurrency() } : {}),
      }),
    );
  }
}
