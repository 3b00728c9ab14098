import { fromEnv } from '@aws-sdk/credential-provider-env';

/**
 * Stands in for `@aws-sdk/credential-provider-node` in the Lambda bundles (an esbuild alias,
 * see infra/aws/bundling.options.ts); never imported directly.
 *
 * Every SDK client's default credential chain is environment variables, then SSO, INI files,
 * credential processes, web identity tokens and the container or instance metadata service.
 * In Lambda the first link always answers: the runtime puts the execution role's credentials
 * in AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN. The other links, and the
 * STS, SSO and sign-in clients they bring, are about a quarter of a small function's bundle
 * and never run, so the bundle keeps the first link only. Locally the handlers run unbundled,
 * with the full chain.
 */
export const defaultProvider: typeof import('@aws-sdk/credential-provider-node').defaultProvider = (init = {}) => fromEnv(init);
