import type { Logger } from '@aws-lambda-powertools/logger';
import type middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

/**
 * The error middleware of the operators' JSON API: what the router did not answer itself is our
 * fault, logged in full with the Lambda context and answered with a plain 500 that carries no
 * internals. (The SCIM API has its own, which renders RFC 7644 errors.)
 */
export const httpErrors = (logger: Logger): middy.MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> => ({
  onError: async (request) => {
    logger.error('unexpected error in an admin request', { error: request.error as Error });
    request.response = {
      statusCode: 500,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ error: 'The service failed to process the request; try again.' }),
    };
  },
});
