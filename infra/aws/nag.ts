import { type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges a cdk-nag finding on a construct and everything below it. Every acknowledgement
 * in the stack goes through here so that the reason is never left out: a finding is either
 * fixed or explained where the construct is made.
 */
export const acknowledge = (scope: IConstruct, id: string, reason: string): void => {
  Validations.of(scope).acknowledge({ id, reason });
};

/**
 * cdk-nag names a wildcard finding after the flattened resource: `Fn::GetAtt [X, Arn]` becomes
 * `<X.Arn>`. This renders that name for an element of the stack, so that an acknowledgement
 * covers exactly one resource's wildcard rather than the rule as a whole.
 */
export const nagArn = (element: IConstruct, attribute = 'Arn'): string => `<${nagRef(element)}.${attribute}>`;

/** The flattened name of `Ref X` in a cdk-nag finding: `<X>`. */
export const nagRef = (element: IConstruct): string => Stack.of(element).getLogicalId(element as CfnElement);

/**
 * The only actions any function may be granted on `"*"`: AWS defines no resource-level
 * permissions for them, so no narrower resource exists. X-Ray's two come with
 * `Tracing.ACTIVE`; `dynamodb:ListStreams` comes with a DynamoDB stream event source.
 * test/infra/stack/cdk-nag.assertions.ts asserts that no other action is ever granted on `"*"`.
 */
export const UNSCOPABLE_ACTIONS: readonly string[] = ['dynamodb:ListStreams', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments'];

/**
 * Acknowledges the `"*"` resource finding (AwsSolutions-IAM5[Resource::*]) on one role's
 * default policy and nothing else: not the function, not the role's other policies, not
 * another wildcard. What that policy grants on `"*"` is held to UNSCOPABLE_ACTIONS by a test.
 */
export const acknowledgeUnscopableActions = (role: IConstruct): void => {
  const policy = role.node.tryFindChild('DefaultPolicy');
  if (!policy) throw new Error(`${role.node.path} has no default policy: there is no "*" grant to acknowledge`);
  acknowledge(
    policy,
    'AwsSolutions-IAM5[Resource::*]',
    `Grants on "*" only ${UNSCOPABLE_ACTIONS.join(', ')}: X-Ray trace uploads (Tracing.ACTIVE) and DynamoDB ListStreams ` +
      '(a stream event source) have no resource-level permissions, so "*" is the narrowest resource there is.',
  );
};
