import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { StreamTrigger } from '#shared/topology/topology.types.ts';
import type { HubFunction } from './function-defaults.construct.ts';
import { acknowledge } from './nag.ts';

export interface StreamSubscriptionProps {
  table: dynamodb.ITable;
  consumer: HubFunction;
  trigger: StreamTrigger;
  /** Physical name of the on-failure queue. */
  failureQueueName: string;
  removalPolicy: RemovalPolicy;
  alarmAction: cloudwatch.IAlarmAction;
}

/**
 * A function on the table stream, as its trigger says: Lambda event filtering with the
 * topology's patterns (records that match none are never delivered, so they cost nothing),
 * batch size and window, bisect on error, bounded retries and partial batch responses.
 *
 * A batch that still fails when the retries run out would otherwise be skipped in silence: its
 * description (shard, sequence numbers; not the records) goes to an on-failure queue, and an
 * alarm fires, so that an operator can replay the range or run a reconciliation.
 */
export class StreamSubscription extends Construct {
  readonly failures: sqs.Queue;
  readonly failuresAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: StreamSubscriptionProps) {
    super(scope, id);
    const { trigger, consumer } = props;

    this.failures = new sqs.Queue(this, 'Failures', {
      queueName: props.failureQueueName,
      // The SQS maximum: the stream itself keeps records for 24 hours only, so this is the
      // longest an operator can take to notice.
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      removalPolicy: props.removalPolicy,
    });
    acknowledge(
      this.failures,
      'AwsSolutions-SQS3',
      'This queue is itself the dead-letter store: the on-failure destination of the stream mapping. Nothing consumes it automatically; an alarm tells an operator.',
    );

    consumer.fn.addEventSource(
      new DynamoEventSource(props.table, {
        startingPosition: lambda.StartingPosition[trigger.startingPosition],
        batchSize: trigger.batchSize,
        maxBatchingWindow: Duration.seconds(trigger.maxBatchingWindowSeconds),
        bisectBatchOnError: trigger.bisectBatchOnError,
        retryAttempts: trigger.maxRetryAttempts,
        reportBatchItemFailures: trigger.reportBatchItemFailures,
        filters: trigger.filters.map((pattern) => lambda.FilterCriteria.filter(pattern)),
        onFailure: new SqsDlq(this.failures),
      }),
    );

    this.failuresAlarm = new cloudwatch.Alarm(this, 'FailuresNotEmpty', {
      alarmDescription: `${consumer.spec.name} gave up on stream records after ${trigger.maxRetryAttempts} retries; their ranges are in ${props.failureQueueName}. Replay them or reconcile.`,
      metric: this.failures.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.failuresAlarm.addAlarmAction(props.alarmAction);
    this.failuresAlarm.addOkAction(props.alarmAction);
  }
}
