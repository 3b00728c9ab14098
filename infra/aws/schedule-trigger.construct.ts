import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import type { ScheduleTrigger } from '#shared/topology/topology.types.ts';
import type { HubFunction } from './function-defaults.construct.ts';

export interface ScheduleTriggerProps {
  target: HubFunction;
  trigger: ScheduleTrigger;
}

/**
 * An EventBridge rule that invokes a function on the topology's schedule expression.
 *
 * The function receives the scheduled event EventBridge sends, with the topology's `detail` in
 * place of the empty one (an input transformer), which is also what the local scheduler sends:
 * handlers read `event.detail` in both places. A plain constant input would hand the function
 * the bare detail object instead, and the handler would see a different event in AWS than
 * locally.
 */
export class ScheduleTriggerRule extends Construct {
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: ScheduleTriggerProps) {
    super(scope, id);
    this.rule = new events.Rule(this, 'Rule', {
      description: `Runs ${props.target.spec.name} on ${props.trigger.expression}.`,
      schedule: events.Schedule.expression(props.trigger.expression),
    });
    this.rule.addTarget(
      new targets.LambdaFunction(props.target.fn, {
        event: events.RuleTargetInput.fromObject({
          version: '0',
          id: events.EventField.eventId,
          'detail-type': events.EventField.detailType,
          source: events.EventField.source,
          account: events.EventField.account,
          time: events.EventField.time,
          region: events.EventField.region,
          resources: events.EventField.fromPath('$.resources'),
          detail: props.trigger.detail ?? {},
        }),
        // An invocation EventBridge cannot deliver is retried; the schedule fires again anyway.
        retryAttempts: 2,
      }),
    );
  }
}
