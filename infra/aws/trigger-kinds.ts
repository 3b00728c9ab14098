import type { FunctionTrigger } from '#shared/topology/topology.types.ts';

/**
 * What each kind of trigger of the topology becomes in AWS. Typed by the `FunctionTrigger` union, so a
 * new kind does not compile until it is listed here, and the stack's `switch` over trigger
 * kinds (hub.stack.ts) ends in an exhaustiveness check as well. The topology coverage test
 * checks the same list against the local runner.
 */
export const awsTriggerDeployments: Readonly<Record<FunctionTrigger['kind'], string>> = {
  http: "API Gateway REST API methods (Lambda proxy integration) on the trigger routes, behind the named Lambda authorizer, IAM auth, or the operators' Cognito pool authorizer with CORS for the console (auth 'operator')",
  'lambda-authorizer': 'API Gateway REQUEST authorizer with the identity header and results cache TTL of the trigger',
  stream: 'Lambda event source mapping on the table stream with filter criteria and an SQS on-failure destination',
  queue: 'Lambda event source mapping on each lane (per connector) of the named queue, with partial batch responses',
  schedule: 'EventBridge rule with the schedule expression, sending the scheduled event with the trigger detail',
  'connector-schedule':
    'EventBridge rule per connector with a reconcile schedule (from the connectorsFile document, or reconcileSchedules), sending the scheduled event with the connector id as detail',
  'object-created': "S3 event notification (ObjectCreated) of the trigger's bucket, one per suffix, under the trigger's prefix",
  invoke: 'stack outputs of the function name and ARN, and a managed policy allowing lambda:InvokeFunction on it',
};

/** The trigger kinds the AWS stack deploys. */
export const awsTriggerKinds = Object.keys(awsTriggerDeployments) as Array<FunctionTrigger['kind']>;
