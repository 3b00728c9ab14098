import { Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';

export interface OperatorPoolProps {
  /** The stack's name prefix (`scim-hub-<stage>`): the pool's name, and with the account, its sign-in domain. */
  namePrefix: string;
  /** The console's address (`https://<distribution>/console/`): where sign-in and sign-out return. */
  consoleUrl: string;
  removalPolicy: RemovalPolicy;
}

/** The API's resource server in the pool, and the one scope an operator's access token must carry. */
export const OPERATOR_RESOURCE_SERVER = 'scim-hub';
export const OPERATOR_SCOPE_NAME = 'console';

/**
 * The operators' own Cognito user pool: administrators create the accounts (no self sign-up),
 * every operator has an authenticator app (MFA required), passwords are long and mixed, and
 * Cognito's threat protection blocks sign-ins it judges compromised. The console signs in at
 * the pool's managed login with the authorization code grant and PKCE, as a public client
 * (a page cannot keep a secret), and calls the API with the access token, whose scope
 * `scim-hub/console` the API's authorizer requires.
 */
export class OperatorPool extends Construct {
  readonly userPool: cognito.UserPool;
  readonly client: cognito.UserPoolClient;
  readonly domain: cognito.UserPoolDomain;
  /** The scope the API requires, as a token carries it: `scim-hub/console`. */
  readonly apiScope: string;

  constructor(scope: Construct, id: string, props: OperatorPoolProps) {
    super(scope, id);

    this.userPool = new cognito.UserPool(this, 'Pool', {
      userPoolName: `${props.namePrefix}-operators`,
      selfSignUpEnabled: false,
      signInAliases: { username: true, email: true },
      signInCaseSensitive: false,
      autoVerify: { email: true },
      standardAttributes: { email: { required: true, mutable: true } },
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: {
        minLength: 14,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      // Operators run the directory of record: Plus brings threat protection, which blocks risky sign-ins rather than only reporting them.
      featurePlan: cognito.FeaturePlan.PLUS,
      standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
      deletionProtection: false,
      removalPolicy: props.removalPolicy,
    });

    const consoleScope = new cognito.ResourceServerScope({
      scopeName: OPERATOR_SCOPE_NAME,
      scopeDescription: "The operators' console routes of the admin API",
    });
    const resourceServer = this.userPool.addResourceServer('Api', {
      identifier: OPERATOR_RESOURCE_SERVER,
      userPoolResourceServerName: 'SCIM hub admin API',
      scopes: [consoleScope],
    });
    this.apiScope = `${OPERATOR_RESOURCE_SERVER}/${OPERATOR_SCOPE_NAME}`;

    this.client = this.userPool.addClient('Console', {
      userPoolClientName: 'console',
      // A single-page app cannot keep a secret: a public client, whose code exchange PKCE protects.
      generateSecret: false,
      // Sign-in happens at the managed login only: no password ever reaches the console (explicitAuthFlows below).
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.resourceServer(resourceServer, consoleScope)],
        callbackUrls: [props.consoleUrl],
        logoutUrls: [props.consoleUrl],
      },
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      // No refresh token in a browser beyond a working day: the console signs in again after it.
      refreshTokenValidity: Duration.hours(8),
      enableTokenRevocation: true,
    });

    // Without a list Cognito allows SRP and custom auth from any caller; refreshing a token is the only flow the console uses outside the managed login.
    (this.client.node.defaultChild as cognito.CfnUserPoolClient).explicitAuthFlows = ['ALLOW_REFRESH_TOKEN_AUTH'];

    this.domain = this.userPool.addDomain('Login', {
      // Unique per account and stage; Cognito prefixes are global and may not contain "aws", "amazon" or "cognito".
      cognitoDomain: { domainPrefix: `${props.namePrefix}-operators-${Stack.of(this).account}` },
      managedLoginVersion: cognito.ManagedLoginVersion.NEWER_MANAGED_LOGIN,
    });

    // Managed login shows a page only for a client with a branding style: Cognito's own look.
    new cognito.CfnManagedLoginBranding(this, 'LoginBranding', {
      userPoolId: this.userPool.userPoolId,
      clientId: this.client.userPoolClientId,
      useCognitoProvidedValues: true,
    }).node.addDependency(this.domain);
  }
}
