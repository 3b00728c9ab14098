import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayAuthorizerResult, APIGatewayProxyEvent, APIGatewayProxyResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { bearerTokenFrom, sameToken } from '#shared/auth/bearer-token.ts';
import { gatewayResponses, SCIM_CONTENT_TYPE } from '#shared/topology/gateway-responses.ts';
import type { AuthorizerTrigger, HttpRoute, HttpTrigger } from '#shared/topology/topology.types.ts';
import type { LocalFunction } from './lambda-runtime.ts';

/** API Gateway's REST API payload limit. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;
const STAGE = 'local';

export interface BoundRoute {
  route: HttpRoute;
  auth: HttpTrigger['auth'];
  target: LocalFunction;
}

interface CompiledRoute extends BoundRoute {
  pattern: RegExp;
  parameterNames: string[];
}

/** Compiles an API Gateway resource path (`/scim/v2/{proxy+}`) to a matcher. */
export const compileRoutePath = (path: string): { pattern: RegExp; parameterNames: string[] } => {
  const parameterNames: string[] = [];
  const source = path
    .split('/')
    .map((segment) => {
      const greedy = /^\{(\w+)\+\}$/.exec(segment);
      if (greedy?.[1]) {
        parameterNames.push(greedy[1]);
        return '(.+)';
      }
      const single = /^\{(\w+)\}$/.exec(segment);
      if (single?.[1]) {
        parameterNames.push(single[1]);
        return '([^/]+)';
      }
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { pattern: new RegExp(`^${source}$`), parameterNames };
};

/** Does an IAM policy statement resource (with `*` wildcards) cover the method ARN? */
const resourceMatches = (resource: string, methodArn: string): boolean =>
  new RegExp(
    `^${resource
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  ).test(methodArn);

const allows = (result: APIGatewayAuthorizerResult, methodArn: string): boolean => {
  const statements = result.policyDocument?.Statement ?? [];
  const matching = statements.filter((statement) => {
    const resources = 'Resource' in statement ? [statement.Resource].flat() : [];
    return resources.some((resource) => typeof resource === 'string' && resourceMatches(resource, methodArn));
  });
  return matching.length > 0 && matching.every((statement) => statement.Effect === 'Allow');
};

/** Lambda's Invoke API path. */
const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

interface AuthorizerBinding {
  trigger: AuthorizerTrigger;
  fn: LocalFunction;
}

/**
 * Why a request to an IAM-authorized route is refused locally, or undefined when it may pass.
 * In AWS those routes (the admin API) take SigV4-signed requests; locally the operator token
 * stands in for the signature: `Authorization: Bearer <ADMIN_TOKEN>`. A browser page of another
 * site must not drive them with a token it learned, nor through a DNS-rebound host name, so a
 * request whose `Origin` is not the hub's own, or whose `Sec-Fetch-Site` is not `same-origin`,
 * is refused before the token is looked at.
 */
export const operatorRefusal = (
  headers: IncomingMessage['headers'],
  operatorToken: string,
  port: number,
): { status: 401 | 403; message: string } | undefined => {
  const origin = headers.origin;
  const ownOrigins = [`http://127.0.0.1:${port}`, `http://localhost:${port}`];
  if (origin !== undefined && !ownOrigins.includes(origin)) return { status: 403, message: 'Cross-site requests to /admin are refused' };
  const fetchSite = headers['sec-fetch-site'];
  if (fetchSite !== undefined && fetchSite !== 'same-origin') return { status: 403, message: 'Cross-site requests to /admin are refused' };
  const token = bearerTokenFrom(headers.authorization);
  if (!token) return { status: 401, message: 'The operator token is required: Authorization: Bearer <ADMIN_TOKEN>' };
  if (!sameToken(token, operatorToken)) return { status: 403, message: 'The operator token is not valid' };
  return undefined;
};

/**
 * Serves HTTP routes as API Gateway's REST API does: the REST (v1) proxy event, REQUEST Lambda
 * authorizers with result caching, and SCIM-shaped gateway responses when they refuse. Routes
 * behind IAM or the operators' pool take the operator token instead (see operatorRefusal).
 */
export class HttpAdapter {
  private readonly routes: CompiledRoute[];
  private readonly authorizers: Map<string, AuthorizerBinding>;
  private readonly operatorToken: string;
  private readonly cache = new Map<string, { result: APIGatewayAuthorizerResult; expires: number }>();
  private readonly extra: Array<{ path: string; handle: (response: ServerResponse) => Promise<void> }> = [];
  private readonly sites: Array<{ prefix: string; handle: (request: IncomingMessage, url: URL, response: ServerResponse) => void }> = [];
  private readonly invokable = new Map<string, LocalFunction>();
  private server: Server | undefined;
  private port = 0;

  constructor(routes: BoundRoute[], authorizers: Map<string, AuthorizerBinding>, operatorToken: string) {
    this.routes = routes.map((route) => ({ ...route, ...compileRoutePath(route.route.path) }));
    this.authorizers = authorizers;
    this.operatorToken = operatorToken;
  }

  /** A route served by the runner itself rather than a function (the health check). */
  addLocalRoute(path: string, handle: (response: ServerResponse) => Promise<void>): void {
    this.extra.push({ path, handle });
  }

  /** Static files served by the runner under a path prefix (the console), without a token. */
  addLocalSite(prefix: string, handle: (request: IncomingMessage, url: URL, response: ServerResponse) => void): void {
    this.sites.push({ prefix, handle });
  }

  /**
   * A function with the topology's `invoke` trigger, served as Lambda's Invoke API serves it
   * (`POST /2015-03-31/functions/<name>/invocations`, the event as the body, the result as the
   * answer, an error as `X-Amz-Function-Error: Unhandled`) behind the operator token, which
   * stands in for the IAM permission the stack's invoke policy grants.
   */
  addInvokeTarget(fn: LocalFunction): void {
    this.invokable.set(fn.spec.name, fn);
  }

  listen(port: number, host = '127.0.0.1'): Promise<number> {
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        console.error('local API Gateway failed on a request', error);
        if (!response.headersSent) send(response, 502, { 'content-type': 'application/json' }, '{"message":"Internal server error"}');
      });
    });
    // Clients close idle keep-alive connections first (undici after 4 s), as behind API
    // Gateway: a server closing one at the same moment would fail the request sent on it.
    this.server.keepAliveTimeout = 65_000;
    this.server.headersTimeout = 66_000;
    return new Promise((resolvePort, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(port, host, () => {
        const address = this.server?.address();
        this.port = typeof address === 'object' && address ? address.port : port;
        resolvePort(this.port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((done) => {
      if (!this.server) return done();
      this.server.closeAllConnections();
      this.server.close(() => done());
    });
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const local = this.extra.find((route) => route.path === url.pathname);
    if (local) return local.handle(response);
    const site = this.sites.find((s) => url.pathname === s.prefix || url.pathname.startsWith(`${s.prefix}/`));
    if (site) return site.handle(request, url, response);

    const method = (request.method ?? 'GET').toUpperCase();
    const invocation = INVOKE_PATH.exec(url.pathname);
    if (invocation) return this.invoke(request, response, method, decodeURIComponent(invocation[1] ?? ''));
    const match = this.match(method, url.pathname);
    if (!match) {
      return send(response, 403, { 'content-type': 'application/json' }, JSON.stringify({ message: 'Missing Authentication Token' }));
    }
    // Locally both operator auths, IAM (the CLI) and the operators' pool (the console), are the operator token.
    if (match.auth.type === 'iam' || match.auth.type === 'operator') {
      const refusal = operatorRefusal(request.headers, this.operatorToken, this.port);
      if (refusal) {
        request.resume();
        const challenge: Record<string, string> = refusal.status === 401 ? { 'www-authenticate': 'Bearer realm="scim-hub-admin"' } : {};
        return send(response, refusal.status, { 'content-type': 'application/json', ...challenge }, JSON.stringify({ message: refusal.message }));
      }
    }
    const body = await readBody(request);
    if (body === undefined) {
      return send(response, 413, { 'content-type': 'application/json' }, JSON.stringify({ message: 'Request Too Long' }));
    }
    const event = toProxyEvent(request, url, method, body, match);

    if (match.auth.type === 'lambda') {
      const decision = await this.authorize(match.auth.authorizer, event);
      if (decision.refused) {
        const refusal = decision.refused === 401 ? gatewayResponses.unauthorized : gatewayResponses.accessDenied;
        return send(response, refusal.statusCode, { 'content-type': SCIM_CONTENT_TYPE }, JSON.stringify(refusal.body));
      }
      event.requestContext.authorizer = { principalId: decision.result.principalId, ...(decision.result.context ?? {}) };
    }

    const result = (await match.target.invoke(event)) as APIGatewayProxyResult;
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(result.headers ?? {})) headers[name.toLowerCase()] = String(value);
    for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) headers[name.toLowerCase()] = values.map(String);
    const payload = result.isBase64Encoded ? Buffer.from(result.body ?? '', 'base64') : (result.body ?? '');
    send(response, result.statusCode, headers, payload);
  }

  private async invoke(request: IncomingMessage, response: ServerResponse, method: string, name: string): Promise<void> {
    const json = { 'content-type': 'application/json' };
    const refusal = operatorRefusal(request.headers, this.operatorToken, this.port);
    const fn = this.invokable.get(name);
    const problem =
      refusal ?? (method !== 'POST' ? { status: 405, message: 'Invoke with POST' } : !fn ? { status: 404, message: `Function not found: ${name}` } : undefined);
    if (problem || !fn) {
      request.resume();
      return send(response, problem?.status ?? 404, json, JSON.stringify({ message: problem?.message }));
    }
    const body = await readBody(request);
    if (body === undefined) return send(response, 413, json, JSON.stringify({ message: 'Request Too Long' }));
    let event: unknown;
    try {
      event = body.length ? JSON.parse(body.toString('utf8')) : {};
    } catch {
      return send(response, 400, json, JSON.stringify({ message: 'The event is not JSON' }));
    }
    try {
      send(response, 200, json, JSON.stringify((await fn.invoke(event)) ?? null));
    } catch (error) {
      const failure = error instanceof Error ? { errorType: error.name, errorMessage: error.message } : { errorType: 'Error', errorMessage: String(error) };
      send(response, 200, { ...json, 'x-amz-function-error': 'Unhandled' }, JSON.stringify(failure));
    }
  }

  private match(method: string, path: string): (CompiledRoute & { parameters: Record<string, string> }) | undefined {
    for (const route of this.routes) {
      if (route.route.method !== 'ANY' && route.route.method !== method) continue;
      const found = route.pattern.exec(path);
      if (!found) continue;
      const parameters: Record<string, string> = {};
      route.parameterNames.forEach((name, index) => {
        parameters[name] = decodeURIComponent(found[index + 1] ?? '');
      });
      return { ...route, parameters };
    }
    return undefined;
  }

  private async authorize(
    name: string,
    event: APIGatewayProxyEvent,
  ): Promise<{ refused: 401 | 403; result?: undefined } | { refused?: undefined; result: APIGatewayAuthorizerResult }> {
    const binding = this.authorizers.get(name);
    if (!binding) throw new Error(`no authorizer named ${name}`);
    const identity = event.headers[binding.trigger.identityHeader.toLowerCase()];
    // API Gateway refuses a request that lacks the identity source without calling the authorizer.
    if (!identity) return { refused: 401 };
    const methodArn = `arn:aws:execute-api:us-east-1:000000000000:local/${STAGE}/${event.httpMethod}${event.path}`;
    const cached = this.cache.get(identity);
    let result: APIGatewayAuthorizerResult;
    if (cached && cached.expires > Date.now()) {
      result = cached.result;
    } else {
      const authorizerEvent: APIGatewayRequestAuthorizerEvent = {
        type: 'REQUEST',
        methodArn,
        resource: event.resource,
        path: event.path,
        httpMethod: event.httpMethod,
        headers: event.headers as Record<string, string>,
        multiValueHeaders: event.multiValueHeaders as Record<string, string[]>,
        pathParameters: event.pathParameters,
        queryStringParameters: event.queryStringParameters,
        multiValueQueryStringParameters: event.multiValueQueryStringParameters,
        stageVariables: null,
        requestContext: { ...event.requestContext, authorizer: undefined },
      };
      try {
        result = (await binding.fn.invoke(authorizerEvent)) as APIGatewayAuthorizerResult;
      } catch (error) {
        // An authorizer signals "no" by throwing `Unauthorized`; anything else is a 500 in AWS,
        // which for a client is as good as a refusal.
        if (!(error instanceof Error && error.message === 'Unauthorized')) console.error('authorizer failed', error);
        return { refused: 401 };
      }
      if (binding.trigger.resultsCacheTtlSeconds > 0) {
        this.cache.set(identity, { result, expires: Date.now() + binding.trigger.resultsCacheTtlSeconds * 1000 });
      }
    }
    return allows(result, methodArn) ? { result } : { refused: 403 };
  }
}

const readBody = async (request: IncomingMessage): Promise<Buffer | undefined> => {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
};

const toProxyEvent = (
  request: IncomingMessage,
  url: URL,
  method: string,
  body: Buffer,
  match: CompiledRoute & { parameters: Record<string, string> },
): APIGatewayProxyEvent => {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i < request.rawHeaders.length; i += 2) {
    const name = (request.rawHeaders[i] ?? '').toLowerCase();
    const value = request.rawHeaders[i + 1] ?? '';
    headers[name] = value;
    multiValueHeaders[name] = [...(multiValueHeaders[name] ?? []), value];
  }
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [name, value] of url.searchParams) {
    query[name] = value;
    multiQuery[name] = [...(multiQuery[name] ?? []), value];
  }
  const hasQuery = Object.keys(query).length > 0;
  const requestId = randomUUID();
  return {
    resource: match.route.path,
    path: url.pathname,
    httpMethod: method,
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters: Object.keys(match.parameters).length > 0 ? match.parameters : null,
    stageVariables: null,
    body: body.length > 0 ? body.toString('utf8') : null,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: undefined,
      protocol: `HTTP/${request.httpVersion}`,
      httpMethod: method,
      identity: {
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? null,
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        user: null,
        userArn: null,
      },
      // As behind a custom domain: no stage prefix in the path the client called.
      path: url.pathname,
      stage: STAGE,
      requestId,
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: match.route.path,
    },
  };
};

const send = (response: ServerResponse, status: number, headers: Record<string, string | string[]>, body: string | Buffer): void => {
  response.writeHead(status, headers);
  response.end(body);
};
