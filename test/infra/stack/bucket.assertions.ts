import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { hubTopology } from '../../../shared/topology/hub.topology.ts';
import { functionLogicalId, functionProperties, json, resources, roleStatements, synthHub } from '../support/hub-synth.ts';

describe('the import bucket', () => {
  const { template } = synthHub({ topology: hubTopology });
  const importBucketId = () => {
    const ids = Object.entries(resources(template, 'AWS::S3::Bucket'))
      .filter(([, bucket]) => json(bucket.Properties?.LoggingConfiguration) !== 'undefined')
      .map(([id]) => id);
    expect(ids).toHaveLength(1);
    return ids[0]!;
  };

  it('is private, encrypted, versionless and logged, and expires uploads, exports and chunks', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LoggingConfiguration: { LogFilePrefix: 'import/' },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Prefix: 'imports/', ExpirationInDays: 7, Status: 'Enabled' }),
          Match.objectLike({ Prefix: 'exports/', ExpirationInDays: 7, Status: 'Enabled' }),
          Match.objectLike({ Prefix: 'chunks/', ExpirationInDays: 4, Status: 'Enabled' }),
          Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
        ]),
      },
    });
  });

  it('refuses every request that is not over TLS', () => {
    const policies = Object.values(resources(template, 'AWS::S3::BucketPolicy')).filter((p) => json(p.Properties?.Bucket) === json({ Ref: importBucketId() }));
    expect(json(policies)).toContain('"aws:SecureTransport":"false"');
    expect(json(policies)).toContain('"Effect":"Deny"');
  });

  it('starts the import function on an upload under imports/ of a CSV, JSON or NDJSON file', () => {
    const notifications = Object.values(resources(template, 'Custom::S3BucketNotifications')).map((n) => n.Properties ?? {});
    expect(notifications).toHaveLength(1);
    const configuration = notifications[0]?.NotificationConfiguration as { LambdaFunctionConfigurations: Array<Record<string, unknown>> } | undefined;
    const lambdas = configuration?.LambdaFunctionConfigurations ?? [];
    const worker = json({ 'Fn::GetAtt': [functionLogicalId(template, 'import-worker'), 'Arn'] });
    expect(lambdas.map((c) => [json(c.LambdaFunctionArn) === worker, c.Events, json(c.Filter)])).toEqual(
      ['.csv', '.json', '.ndjson'].map((suffix) => [
        true,
        ['s3:ObjectCreated:*'],
        json({
          Key: {
            FilterRules: [
              { Name: 'suffix', Value: suffix },
              { Name: 'prefix', Value: 'imports/' },
            ],
          },
        }),
      ]),
    );
  });

  it.each([
    ['import-worker', { 'imports/': ['s3:GetObject'], 'mappings/': ['s3:GetObject'], 'exports/': ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'] }],
    ['admin-api', { 'imports/': ['s3:GetObject'], 'mappings/': ['s3:GetObject'], 'chunks/': ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'] }],
  ])('grants %s object actions under its prefixes only', (name, expected) => {
    const statements = roleStatements(template, name).filter((s) => json(s.Action).includes('s3:'));
    const onPrefix = (prefix: string) =>
      statements.filter((s) => json(s.Resource).includes(`/${prefix}*`)).flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    for (const [prefix, actions] of Object.entries(expected)) expect(onPrefix(prefix).sort()).toEqual([...actions].sort());
    // Nothing on the bucket itself (no listing, no policy, no deletion), nothing outside the prefixes.
    for (const statement of statements) expect(json(statement.Resource)).toMatch(/\/(imports|mappings|exports|chunks)\/\*/);
    expect(json(statements)).not.toMatch(/s3:(Delete|List|PutBucket)/);
  });

  it('gives the import function and the admin API the bucket as IMPORT_BUCKET, and no other function', () => {
    for (const fn of hubTopology.functions) {
      const variables = (functionProperties(template, fn.name).Environment as { Variables: Record<string, unknown> }).Variables;
      if (['import-worker', 'admin-api'].includes(fn.name)) expect(variables.IMPORT_BUCKET, fn.name).toEqual({ Ref: importBucketId() });
      else expect(variables, fn.name).not.toHaveProperty('IMPORT_BUCKET');
    }
  });
});
