import type { Logger } from '@aws-lambda-powertools/logger';
import type middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { ScimError } from '#shared/scim/errors.ts';
import { errorResponse } from './http.ts';

/**
 * Renders every error as an RFC 7644 section 3.12 SCIM error. A ScimError says what the client
 * did wrong and is shown as it is; anything else is our fault: logged in full, answered with a
 * plain 500 that carries no internals.
 */
export const scimErrorResponses = (logger: Logger): middy.MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> => ({
  onError: async (request) => {
    const error = request.error;
    if (error instanceof ScimError) {
      // 501 (/Me) is an answer, not a failure.
      if (error.status >= 500 && error.status !== 501) logger.error('SCIM request failed', { error });
      request.response = errorResponse(error);
      return;
    }
    logger.error('unexpected error in a SCIM request', { error: error as Error });
    request.response = errorResponse(new ScimError(500, undefined, 'The service failed to process the request; try again.'));
  },
});
