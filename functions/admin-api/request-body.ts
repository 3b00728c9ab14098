import type { APIGatewayProxyEvent } from 'aws-lambda';

/** The request body as JSON (an empty body is `{}`); undefined when it is not JSON. */
export const bodyOf = (event: APIGatewayProxyEvent): unknown => {
  const text = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');
  try {
    return text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    return undefined;
  }
};
