import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { METRICS_NAMESPACE } from './function-defaults.construct.ts';

/**
 * The hub's own metrics as the dashboard and the alarms read them. The functions emit them in
 * embedded metric format (Powertools Metrics, shared/observability/audit-metrics.ts) under
 * `POWERTOOLS_METRICS_NAMESPACE`; what is written here is the contract the emitters must keep:
 * names, dimensions and status values. CloudWatch matches dimension sets exactly, so these
 * metrics carry no `service` dimension (Powertools adds one by default): a connector's numbers
 * are the same whichever function (worker, reconciliation, on-demand) did the work.
 */
export const hubMetricNames = {
  /** Count of sync operations; dimensions `connector` and `status`. */
  operations: 'Operations',
  /** Milliseconds from the hub change to the target acknowledging it; dimension `connector`. */
  propagationLatency: 'PropagationLatency',
  /** 1 each time a connector's circuit breaker opens; dimension `connector`. */
  quarantined: 'Quarantined',
  /** 1 each time a reconciliation run stops at the deletion threshold to wait for approval; dimension `connector`. */
  runsAwaitingApproval: 'RunsAwaitingApproval',
} as const;

/**
 * The `status` values the error rate is computed from (AuditStatus in shared/sync/sync.ports.ts).
 * `skipped` is no attempt and `retrying` not yet an outcome, so neither counts.
 */
export const operationStatus = { succeeded: 'success', failed: 'failed', deadLettered: 'dead-lettered' } as const;

const FIVE_MINUTES = Duration.minutes(5);

export const operationsMetric = (connector: string, status: string): cloudwatch.Metric =>
  new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: hubMetricNames.operations,
    dimensionsMap: { connector, status },
    statistic: 'Sum',
    period: FIVE_MINUTES,
  });

/**
 * Failed operations (failed or dead-lettered) as a percentage of finished ones for one
 * connector. Below `minimumOperations` in a period the rate is reported as 0: one failure out
 * of one attempt is not an incident.
 */
export const connectorErrorRate = (connector: string, minimumOperations = 10): cloudwatch.MathExpression => {
  // Metric ids are unique per graph, so they carry the connector (ids allow no dashes).
  const id = connector.replaceAll('-', '_');
  const ok = `ok_${id}`;
  const failed = `failed_${id}`;
  const dead = `dead_${id}`;
  const failures = `(FILL(${failed}, 0) + FILL(${dead}, 0))`;
  const finished = `(FILL(${ok}, 0) + ${failures})`;
  return new cloudwatch.MathExpression({
    label: `${connector} error rate (%)`,
    expression: `IF(${finished} >= ${minimumOperations}, 100 * ${failures} / ${finished}, 0)`,
    usingMetrics: {
      [ok]: operationsMetric(connector, operationStatus.succeeded),
      [failed]: operationsMetric(connector, operationStatus.failed),
      [dead]: operationsMetric(connector, operationStatus.deadLettered),
    },
    period: FIVE_MINUTES,
  });
};

export const runsAwaitingApprovalMetric = (connector: string): cloudwatch.Metric =>
  new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: hubMetricNames.runsAwaitingApproval,
    dimensionsMap: { connector },
    statistic: 'Sum',
    period: FIVE_MINUTES,
  });

export const quarantinedMetric = (connector: string): cloudwatch.Metric =>
  new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: hubMetricNames.quarantined,
    dimensionsMap: { connector },
    statistic: 'Sum',
    period: FIVE_MINUTES,
  });

export const propagationLatencyMetric = (connector: string, statistic: 'p50' | 'p99'): cloudwatch.Metric =>
  new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: hubMetricNames.propagationLatency,
    dimensionsMap: { connector },
    statistic,
    period: FIVE_MINUTES,
    label: `${connector} ${statistic}`,
  });

/**
 * Operations of every connector by status, found by a search rather than listed: connectors
 * added after the deployment show without a change to the dashboard. The search names no
 * dimension set, so the lines show even if an emitter adds dimensions to the contract's.
 */
export const operationsByStatusSearch = (): cloudwatch.MathExpression =>
  new cloudwatch.MathExpression({
    label: '',
    expression: `SEARCH('Namespace="${METRICS_NAMESPACE}" MetricName="${hubMetricNames.operations}" connector status', 'Sum', 300)`,
    usingMetrics: {},
    period: FIVE_MINUTES,
  });
