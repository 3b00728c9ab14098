import { createServer, type IncomingMessage, type Server } from 'node:http';

export interface RecordedRequest {
  method: string;
  path: string;
  body: unknown;
  at: number;
}

export type Behaviour = (request: {
  method: string;
  path: string;
  body: unknown;
}) => { status: number; headers?: Record<string, string>; body?: unknown } | 'forward';

/**
 * An HTTP proxy in front of a real SCIM server: it records every request the hub's connector
 * makes and can answer instead of the target (down, 429 with Retry-After, a refused value), so
 * tests see exactly what went over the wire.
 */
export const startRecordingProxy = async (target: string) => {
  const requests: RecordedRequest[] = [];
  let behaviour: Behaviour = () => 'forward';
  const read = async (request: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  };
  const server: Server = createServer((request, response) => {
    void (async () => {
      const text = await read(request);
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = text;
      }
      const method = request.method ?? 'GET';
      const path = request.url ?? '/';
      requests.push({ method, path, body, at: Date.now() });
      const decision = behaviour({ method, path, body });
      if (decision !== 'forward') {
        response.writeHead(decision.status, { 'content-type': 'application/scim+json', ...decision.headers });
        response.end(decision.body === undefined ? '' : JSON.stringify(decision.body));
        return;
      }
      const upstream = await fetch(`${target}${path}`, {
        method,
        headers: Object.fromEntries(
          Object.entries(request.headers)
            .filter(([name]) => !['host', 'content-length', 'connection'].includes(name))
            .map(([k, v]) => [k, String(v)]),
        ),
        body: text || undefined,
      });
      const payload = Buffer.from(await upstream.arrayBuffer());
      response.writeHead(
        upstream.status,
        Object.fromEntries([...upstream.headers].filter(([name]) => !['content-length', 'transfer-encoding', 'connection', 'keep-alive'].includes(name))),
      );
      response.end(payload);
    })().catch((error: unknown) => {
      response.writeHead(502);
      response.end(String(error));
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    setBehaviour: (next: Behaviour) => {
      behaviour = next;
    },
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
};
