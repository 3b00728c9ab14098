import { CfnOutput } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { HubFunction } from './function-defaults.construct.ts';

export interface InvokeAccessProps {
  target: HubFunction;
  managedPolicyName: string;
}

/**
 * Direct invocation of a function by operators (Lambda Invoke API, `aws lambda invoke`): no
 * trigger resource, only what an operator needs: the function's name and ARN as stack outputs,
 * and a managed policy allowing exactly that one function to be invoked, to attach to the
 * operators' role or group. Nothing is granted by the stack itself, so who may invoke stays
 * the account administrators' decision.
 */
export class InvokeAccess extends Construct {
  readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: InvokeAccessProps) {
    super(scope, id);
    const { target } = props;
    this.policy = new iam.ManagedPolicy(this, 'InvokePolicy', {
      managedPolicyName: props.managedPolicyName,
      description: `Allows invoking the ${target.spec.name} function of the SCIM hub.`,
      statements: [new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [target.fn.functionArn] })],
    });
    new CfnOutput(this, 'FunctionName', { value: target.fn.functionName, description: `Invoke ${target.spec.name} with this name.` });
    new CfnOutput(this, 'FunctionArn', { value: target.fn.functionArn, description: `ARN of ${target.spec.name}.` });
    new CfnOutput(this, 'InvokePolicyArn', {
      value: this.policy.managedPolicyArn,
      description: `Attach to the operators allowed to invoke ${target.spec.name}.`,
    });
  }
}
