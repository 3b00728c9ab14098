import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { HubFunction } from './function-defaults.construct.ts';
import { connectorErrorRate, quarantinedMetric, runsAwaitingApprovalMetric } from './hub.metrics.ts';

export interface HubOperationsProps {
  topicName: string;
  /** Subscribes this address to the alarms, when given (the subscription must be confirmed from the mail). */
  alarmEmail: string | undefined;
  /** Percent of failed operations of a connector that raises its alarm. */
  errorRateThresholdPercent?: number;
}

/**
 * Where the hub tells operators that something needs them: one SNS topic for every alarm (the
 * DLQ alarms of the lanes and the stream failure alarms notify it too), an optional email
 * subscription, and the alarms on the hub's own metrics: a connector's error rate, a connector
 * quarantined by its circuit breaker, and errors of each function.
 */
export class HubOperations extends Construct {
  readonly topic: sns.Topic;
  readonly alarmAction: cloudwatch.IAlarmAction;
  readonly alarms: cloudwatch.Alarm[] = [];
  private readonly errorRateThresholdPercent: number;

  constructor(scope: Construct, id: string, props: HubOperationsProps) {
    super(scope, id);
    this.errorRateThresholdPercent = props.errorRateThresholdPercent ?? 5;
    this.topic = new sns.Topic(this, 'Alarms', {
      topicName: props.topicName,
      displayName: 'SCIM hub alarms',
      enforceSSL: true,
      // No KMS key: CloudWatch cannot publish to a topic encrypted with the AWS managed SNS key,
      // and alarm messages carry alarm names, states and metric values, never directory data.
    });
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    this.alarmAction = new actions.SnsAction(this.topic);
  }

  private alarm(scope: Construct, id: string, props: cloudwatch.AlarmProps): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(scope, id, { treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING, ...props });
    alarm.addAlarmAction(this.alarmAction);
    alarm.addOkAction(this.alarmAction);
    this.alarms.push(alarm);
    return alarm;
  }

  /** Any error of the function (an uncaught exception or a timeout, not an HTTP 4xx it answers). */
  addFunctionAlarms(target: HubFunction): void {
    this.alarm(target, 'ErrorsAlarm', {
      alarmDescription: `${target.spec.name} failed (uncaught error or timeout). See its log group.`,
      metric: target.fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
  }

  /** A connector failing too often, and a connector quarantined by its circuit breaker. */
  addConnectorAlarms(connectorId: string): void {
    const scope = new Construct(this, `Connector-${connectorId}`);
    this.alarm(scope, 'ErrorRateAlarm', {
      alarmDescription: `More than ${this.errorRateThresholdPercent}% of the operations towards ${connectorId} failed in two of the last three 5-minute periods.`,
      metric: connectorErrorRate(connectorId),
      threshold: this.errorRateThresholdPercent,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
    this.alarm(scope, 'QuarantinedAlarm', {
      alarmDescription: `Connector ${connectorId} is quarantined: its circuit breaker opened after repeated failures and its lane waits.`,
      metric: quarantinedMetric(connectorId),
      threshold: 0,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
    this.alarm(scope, 'RunAwaitingApprovalAlarm', {
      alarmDescription: `A reconciliation run of ${connectorId} would disable or delete more accounts than its deletion threshold allows and waits for an operator: npm run ops -- runs, then approve or reject it.`,
      metric: runsAwaitingApprovalMetric(connectorId),
      threshold: 0,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
  }
}
