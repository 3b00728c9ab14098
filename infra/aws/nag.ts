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
