import { Duration } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import type { ConnectorLane } from './connector-lane.construct.ts';
import type { HubFunction } from './function-defaults.construct.ts';
import { connectorErrorRate, operationsByStatusSearch, propagationLatencyMetric, quarantinedMetric } from './hub.metrics.ts';
import type { StreamSubscription } from './stream-subscription.construct.ts';

export interface HubDashboardProps {
  dashboardName: string;
  connectorIds: string[];
  functions: HubFunction[];
  lanes: ConnectorLane[];
  streams: StreamSubscription[];
  api: apigateway.RestApi | undefined;
  alarms: cloudwatch.IAlarm[];
}

const FIVE_MINUTES = Duration.minutes(5);

/**
 * A graph, or nothing when it would have no metric (no connectors or lanes yet): CloudWatch
 * refuses a dashboard with an empty metric widget.
 */
const graph = (props: cloudwatch.GraphWidgetProps): cloudwatch.IWidget[] =>
  (props.left?.length ?? 0) + (props.right?.length ?? 0) > 0 ? [new cloudwatch.GraphWidget(props)] : [];
const WIDE = 12;
const HEIGHT = 6;

/**
 * One CloudWatch dashboard for the hub, read top to bottom: is provisioning flowing (operations
 * by connector and status, error rate, propagation latency), is work piling up (DLQ depth per
 * lane, stream failures, quarantine), is the front door healthy (API 4xx, 5xx, latency,
 * throttles), and are the functions healthy (errors, durations).
 */
export class HubDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: HubDashboardProps) {
    super(scope, id);
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.hours(3),
    });
    this.dashboard = dashboard;

    dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: '# SCIM hub\nProvisioning flow, backlog, API and functions. Alarms notify the SNS topic of the stack.',
        width: 24,
        height: 2,
      }),
    );

    dashboard.addWidgets(
      ...graph({
        title: 'Operations per connector by status',
        left: [operationsByStatusSearch()],
        stacked: true,
        width: WIDE,
        height: HEIGHT,
      }),
      ...graph({
        title: 'Error rate per connector (%)',
        left: props.connectorIds.map((connector) => connectorErrorRate(connector)),
        leftYAxis: { min: 0, max: 100, showUnits: false },
        width: WIDE,
        height: HEIGHT,
      }),
    );

    dashboard.addWidgets(
      ...graph({
        title: 'Propagation latency (ms, p50 and p99)',
        left: props.connectorIds.flatMap((connector) => [propagationLatencyMetric(connector, 'p50'), propagationLatencyMetric(connector, 'p99')]),
        width: WIDE,
        height: HEIGHT,
      }),
      ...graph({
        title: 'Quarantined connectors',
        left: props.connectorIds.map((connector) => quarantinedMetric(connector).with({ label: connector })),
        width: WIDE,
        height: HEIGHT,
      }),
    );

    dashboard.addWidgets(
      ...graph({
        title: 'Dead-letter queue depth per lane',
        left: props.lanes.map((lane) =>
          lane.dlq.metricApproximateNumberOfMessagesVisible({
            period: Duration.minutes(1),
            statistic: 'Maximum',
            label: lane.connectorId ?? lane.spec.name,
          }),
        ),
        width: WIDE,
        height: HEIGHT,
      }),
      ...graph({
        title: 'Lane backlog and stream failures',
        left: props.lanes.map((lane) =>
          lane.queue.metricApproximateNumberOfMessagesVisible({
            period: Duration.minutes(1),
            statistic: 'Maximum',
            label: `${lane.connectorId ?? lane.spec.name} backlog`,
          }),
        ),
        right: props.streams.map((stream) =>
          stream.failures.metricApproximateNumberOfMessagesVisible({
            period: Duration.minutes(1),
            statistic: 'Maximum',
            label: 'stream failures',
          }),
        ),
        width: WIDE,
        height: HEIGHT,
      }),
    );

    if (props.api) {
      const api = props.api;
      dashboard.addWidgets(
        ...graph({
          title: 'API requests, 4xx and 5xx',
          left: [
            api.metricCount({ period: FIVE_MINUTES, label: 'requests' }),
            api.metricClientError({ period: FIVE_MINUTES, label: '4xx (401, 403, 429 throttled, ...)' }),
            api.metricServerError({ period: FIVE_MINUTES, label: '5xx' }),
          ],
          width: WIDE,
          height: HEIGHT,
        }),
        ...graph({
          title: 'API latency (ms, p99)',
          left: [
            api.metricLatency({ period: FIVE_MINUTES, statistic: 'p99', label: 'latency' }),
            api.metricIntegrationLatency({ period: FIVE_MINUTES, statistic: 'p99', label: 'integration latency' }),
          ],
          width: WIDE,
          height: HEIGHT,
        }),
      );
    }

    dashboard.addWidgets(
      ...graph({
        title: 'Lambda errors',
        left: props.functions.map((f) => f.fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum', label: f.spec.name })),
        width: 8,
        height: HEIGHT,
      }),
      ...graph({
        title: 'Lambda throttles',
        left: props.functions.map((f) => f.fn.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum', label: f.spec.name })),
        width: 8,
        height: HEIGHT,
      }),
      ...graph({
        title: 'Lambda duration (ms, p99)',
        left: props.functions.map((f) => f.fn.metricDuration({ period: FIVE_MINUTES, statistic: 'p99', label: f.spec.name })),
        width: 8,
        height: HEIGHT,
      }),
    );

    if (props.alarms.length > 0) {
      dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: props.alarms, width: 24, height: 4 }));
    }
  }
}
