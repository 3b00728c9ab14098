import type { Topology } from './topology.types.ts';

/**
 * THE description of the hub: every function, its entry file and its triggers. The CDK stack
 * (infra/aws) and the local runner (infra/local) are both built from this value; a test proves
 * that both cover every entry.
 */
export const hubTopology: Topology = {
  functions: [
    {
      name: 'scim-authorizer',
      description: 'Checks SCIM bearer tokens (stored hashed) for API Gateway; answers are cached.',
      entry: 'functions/scim-authorizer/handler.ts',
      memoryMb: 256,
      timeoutSeconds: 10,
      triggers: [{ kind: 'lambda-authorizer', identityHeader: 'Authorization', resultsCacheTtlSeconds: 300 }],
      grants: [{ resource: 'table', access: 'read' }],
    },
    {
      name: 'scim-api',
      description: 'The SCIM 2.0 service provider (RFC 7643, RFC 7644, RFC 9865) on the hub table.',
      entry: 'functions/scim-api/handler.ts',
      memoryMb: 1024,
      // API Gateway waits at most 29 s for an integration.
      timeoutSeconds: 29,
      triggers: [
        {
          kind: 'http',
          routes: [
            { method: 'ANY', path: '/scim/v2' },
            { method: 'ANY', path: '/scim/v2/{proxy+}' },
          ],
          auth: { type: 'lambda', authorizer: 'scim-authorizer' },
        },
      ],
      grants: [{ resource: 'table', access: 'readWrite' }],
    },
  ],
  queues: [],
};
