import { resolve } from 'node:path';
import { AssetHashType, DockerImage, Duration, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct, type IConstruct } from 'constructs';
import type { ConsoleRuntimeConfig } from '../../console/src/runtime-config.ts';
import { buildConsoleSync, writeConsoleAssets } from '../console/console.build.ts';
import { acknowledge, nagArn } from './nag.ts';

/** Where the console lives on its distribution, as locally (`http://localhost:PORT/console/`). */
export const CONSOLE_PATH = '/console/';

export interface ConsoleHostingProps {
  /** The project root: the console's sources are under `console/`. */
  projectRoot: string;
  removalPolicy: RemovalPolicy;
  /** Retention of the deployment handler's logs, as every log group of the stage. */
  logRetentionDays: number;
}

/**
 * Sends `/` and `/console` to `/console/`, and every console path that is not a file (the
 * console routes in the browser: `/console/log?status=failed`) to its `index.html`; hashed
 * assets and `config.json` pass as they are. CloudFront Functions run the cloudfront-js-2.0
 * runtime: plain ES5.1 plus a few later features, no modules.
 */
const ROUTING_FUNCTION = `function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri === '/' || uri === '/console') {
    return { statusCode: 301, statusDescription: 'Moved Permanently', headers: { location: { value: '${CONSOLE_PATH}' }, 'cache-control': { value: 'no-cache' } } };
  }
  if (uri.indexOf('${CONSOLE_PATH}assets/') === 0 || uri === '${CONSOLE_PATH}config.json') return request;
  if (uri.indexOf('${CONSOLE_PATH}') === 0) request.uri = '${CONSOLE_PATH}index.html';
  return request;
}`;

/**
 * The operators' console in AWS: the built assets (infra/console/console.build.ts, the build
 * `npm start` serves) in a private, encrypted, SSL-only bucket, read by CloudFront through
 * origin access control, with security headers on every answer and HTTPS only.
 *
 * The page's runtime settings (the API's URL, the operators' pool) are written beside it as
 * `config.json` at deployment (`deploy`), so the bundle is the same for every stage and
 * for `npm start`, which serves its own `config.json`.
 */
export class ConsoleHosting extends Construct {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  /** `https://<distribution domain>`: the origin the API allows (CORS) and the pool redirects to. */
  readonly origin: string;
  /** The console's address: the origin and `/console/`. */
  readonly url: string;
  private readonly connectSources: string[] = ["'self'"];
  private readonly projectRoot: string;
  private readonly deploymentLogs: logs.LogGroup;
  private readonly retainFiles: boolean;

  constructor(scope: Construct, id: string, props: ConsoleHostingProps) {
    super(scope, id);
    this.projectRoot = props.projectRoot;
    // A stage meant to be destroyed takes its files with it, so that its bucket can go too.
    this.retainFiles = props.removalPolicy !== RemovalPolicy.DESTROY;
    this.deploymentLogs = new logs.LogGroup(this, 'DeploymentLogs', {
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: props.removalPolicy,
    });

    this.bucket = new s3.Bucket(this, 'Assets', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: props.removalPolicy,
    });
    acknowledge(
      this.bucket,
      'AwsSolutions-S1',
      'The bucket holds the built console only, the same files for every operator; it is written by the deployment and read only by CloudFront. ' +
        'What operators do is logged where the data is: the API access logs and the audit trail.',
    );

    const headers = new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: "Security headers of the operators' console",
      securityHeadersBehavior: {
        // The page may run only its own bundle and talk only to itself, the hub API and the operators' sign-in domain.
        contentSecurityPolicy: {
          contentSecurityPolicy: Lazy.string({
            produce: () =>
              [
                "default-src 'none'",
                "script-src 'self'",
                "style-src 'self'",
                "img-src 'self' data:",
                `connect-src ${this.connectSources.join(' ')}`,
                "font-src 'self'",
                "base-uri 'none'",
                "form-action 'self'",
                "frame-ancestors 'none'",
              ].join('; '),
          }),
          override: true,
        },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(730), includeSubdomains: true, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
      },
      customHeadersBehavior: {
        customHeaders: [{ header: 'Cross-Origin-Opener-Policy', value: 'same-origin', override: true }],
      },
    });

    const routing = new cloudfront.Function(this, 'Routing', {
      code: cloudfront.FunctionCode.fromInline(ROUTING_FUNCTION),
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      comment: 'Console paths to index.html; / to /console/',
    });

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: "SCIM hub operators' console",
      // The routing function answers `/` (a redirect) and every console route (index.html): no default root object is left to serve.
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: headers,
        compress: true,
        functionAssociations: [{ function: routing, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }],
      },
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
    });
    this.origin = `https://${this.distribution.distributionDomainName}`;
    this.url = `${this.origin}${CONSOLE_PATH}`;

    acknowledge(
      this.distribution,
      'AwsSolutions-CFR1',
      "Operators sign in from wherever they work; the pages are static files, and every call for data is checked by the operators' pool and the API.",
    );
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR2',
      'The distribution serves static files only (GET and HEAD); the data is behind the API, whose stage has the WAF web ACL. ' +
        'A web ACL for CloudFront must live in us-east-1, outside this regional stack.',
    );
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR3',
      "The same static files for everyone: who fetched them says nothing. Operators' actions are in the API access logs and the audit trail.",
    );
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR4',
      'The distribution uses the default *.cloudfront.net certificate, with which CloudFront fixes the viewer security policy (TLSv1); ' +
        'a custom domain with its ACM certificate is what allows TLSv1.2_2021 as the minimum.',
    );
  }

  /** Lets the page call another origin (the API, the sign-in domain): added to the policy's `connect-src`. */
  allowConnectTo(origin: string): void {
    this.connectSources.push(origin);
  }

  /**
   * Deploys the built console and its `config.json`. Hashed assets are cached for a year and
   * never removed by a later deployment (a page loaded before it still finds its script);
   * `index.html` and `config.json` are asked again on every load, after the assets are in place.
   */
  deploy(config: ConsoleRuntimeConfig): void {
    const built = s3deploy.Source.asset(resolve(this.projectRoot, 'console'), {
      // The console is built at synthesis by the same function `npm start` uses, in process: no Docker.
      assetHashType: AssetHashType.OUTPUT,
      bundling: {
        image: DockerImage.fromRegistry('scratch'),
        local: {
          tryBundle: (outputDir) => {
            writeConsoleAssets(buildConsoleSync(), outputDir);
            return true;
          },
        },
      },
    });
    const assets = new s3deploy.BucketDeployment(this, 'DeployAssets', {
      sources: [built],
      destinationBucket: this.bucket,
      destinationKeyPrefix: CONSOLE_PATH.slice(1),
      exclude: ['*'],
      include: ['assets/*'],
      prune: false,
      logGroup: this.deploymentLogs,
      retainOnDelete: this.retainFiles,
      cacheControl: [s3deploy.CacheControl.fromString('public, max-age=31536000, immutable')],
    });
    const page = new s3deploy.BucketDeployment(this, 'DeployPage', {
      sources: [built, s3deploy.Source.jsonData('config.json', config)],
      destinationBucket: this.bucket,
      destinationKeyPrefix: CONSOLE_PATH.slice(1),
      // Pruning stops at excluded keys: the assets stay.
      exclude: ['assets/*'],
      prune: true,
      logGroup: this.deploymentLogs,
      retainOnDelete: this.retainFiles,
      cacheControl: [s3deploy.CacheControl.noCache()],
    });
    page.node.addDependency(assets);
    this.acknowledgeDeploymentHandler();
  }

  /** The deployment's handler is CDK's, one per stack; its findings are acknowledged on it alone. */
  private acknowledgeDeploymentHandler(): void {
    const stack = Stack.of(this);
    const handler = stack.node.children.find((child) => child.node.id.startsWith('Custom::CDKBucketDeployment'));
    if (!handler) throw new Error('no bucket deployment handler in the stack');
    acknowledge(
      handler,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      "CDK's bucket deployment handler logs with the AWS managed basic execution policy, which AWS keeps in step with the log actions.",
    );
    // CDK's grants to the handler: read the asset bucket's objects, write the console bucket's (grantRead, grantReadWrite).
    const objectGrants = ['Action::s3:GetBucket*', 'Action::s3:GetObject*', 'Action::s3:List*', 'Action::s3:Abort*', 'Action::s3:DeleteObject*'];
    const objectResources = [
      `Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*`,
      `Resource::${nagArn(this.bucket.node.defaultChild as IConstruct)}/*`,
    ];
    for (const finding of [...objectGrants, ...objectResources]) {
      acknowledge(
        handler,
        `AwsSolutions-IAM5[${finding}]`,
        "CDK's bucket deployment handler copies the console from the CDK asset bucket into the console bucket: the wildcards are CDK's object-level read and write grants on those two buckets only.",
      );
    }
    acknowledge(handler, 'AwsSolutions-L1', "The runtime of CDK's bucket deployment handler is chosen by aws-cdk-lib and moves with it.");
  }
}
