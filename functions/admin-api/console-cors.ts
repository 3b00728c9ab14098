import type middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

/**
 * CORS for the operators' console (RFC 6454 origins, the Fetch standard's CORS protocol): an
 * answer to a request from the console's origin says that origin may read it; an answer to any
 * other origin says nothing, so the browser keeps it from the page. The preflight is API
 * Gateway's (hub-api.construct.ts); this covers the answers themselves, errors included.
 * Without a console origin (locally, where the console is on the hub's own origin) it adds nothing.
 */
export const consoleCors = (consoleOrigin: string | undefined): middy.MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> => {
  const allow = async (request: middy.Request<APIGatewayProxyEvent, APIGatewayProxyResult>): Promise<void> => {
    const response = request.response;
    if (!consoleOrigin || !response) return;
    const headers = request.event.headers ?? {};
    const origin = headers.origin ?? headers.Origin;
    // Caches must keep answers to different origins apart, whichever origin this one went to.
    response.headers = { ...response.headers, Vary: 'Origin' };
    if (origin === consoleOrigin) response.headers['Access-Control-Allow-Origin'] = consoleOrigin;
  };
  return { after: allow, onError: allow };
};
