import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { AuditLog } from '../sync/sync.ports.ts';

export const METRICS_NAMESPACE = 'ScimHub';

/**
 * Every audit record also becomes CloudWatch metrics (embedded metric format): Operations by
 * connector and status, PropagationLatency for real-time changes, Quarantined when a connector's
 * circuit opens, RunsAwaitingApproval when a reconciliation run stops at the deletion threshold. The dashboard and alarms read these.
 */
export const withAuditMetrics = (audit: AuditLog, metrics: Metrics): AuditLog => ({
  record: async (entry) => {
    await audit.record(entry);
    // Alarms match dimension sets exactly: drop Powertools' default `service` dimension.
    const single = metrics.singleMetric();
    single.clearDefaultDimensions();
    single.addDimensions({ connector: entry.connectorId, status: entry.status });
    single.addMetric('Operations', MetricUnit.Count, 1);
    if (entry.latencyMs !== undefined) {
      const latency = metrics.singleMetric();
      latency.clearDefaultDimensions();
      latency.addDimension('connector', entry.connectorId);
      latency.addMetric('PropagationLatency', MetricUnit.Milliseconds, entry.latencyMs);
    }
    if (entry.resourceType === 'Connector' && entry.action === 'quarantine') {
      const quarantined = metrics.singleMetric();
      quarantined.clearDefaultDimensions();
      quarantined.addDimension('connector', entry.connectorId);
      quarantined.addMetric('Quarantined', MetricUnit.Count, 1);
    }
    if (entry.resourceType === 'Connector' && entry.action === 'awaiting-approval') {
      // A reconciliation run over the deletion threshold waits for an operator.
      const waiting = metrics.singleMetric();
      waiting.clearDefaultDimensions();
      waiting.addDimension('connector', entry.connectorId);
      waiting.addMetric('RunsAwaitingApproval', MetricUnit.Count, 1);
    }
  },
});
