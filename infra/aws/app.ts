import { App } from 'aws-cdk-lib';
import { addHub } from './hub.app.ts';

/**
 * The CDK app (cdk.json: `npx tsx infra/aws/app.ts`). Parameters come from CDK context, e.g.
 * `npx cdk synth -c stageName=staging -c connectorIds=acme,okta -c enableWaf=false`; see
 * infra/aws/hub.parameters.ts for all of them and their defaults.
 */
const app = new App();
addHub(app);
app.synth();
