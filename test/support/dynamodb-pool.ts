import { createServer, type Server } from 'node:http';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../infra/local/dynamodb-local.ts';

/**
 * How many integration files one DynamoDB Local serves before a fresh one takes over. DynamoDB
 * Local keeps the stream records of every table it ever held, dropped tables included (disabling
 * the stream first changes nothing), and every write, transaction and stream read slows down as
 * they pile up: after 40 tables of 300 items, a four-item transaction took 120 ms of its CPU
 * instead of 14 ms. A start costs about 5 s of CPU, so a fresh instance per file would cost more
 * than it saves.
 */
export const FILES_PER_INSTANCE = 6;

interface Slot {
  current: DynamoDbLocal;
  files: number;
  /** Started in the background while the current one serves, so a swap waits for nothing. */
  spare?: Promise<DynamoDbLocal>;
}

/**
 * The DynamoDB Locals of a test run, one slot per worker, leased over HTTP on 127.0.0.1 by each
 * test file as it starts (dynamodb-lease.setup.ts). A worker runs one file at a time, so a lease
 * is the moment its previous file is finished with the slot's instance, and the only moment it
 * is swapped for a fresh one.
 */
export const startDynamoDbPool = async (workers: number) => {
  const slots: Slot[] = await Promise.all(Array.from({ length: workers }, async () => ({ current: await startDynamoDbLocal(), files: 0 })));
  /** Replaced instances, each stopped a little after its swap, or at the end of the run at the latest. */
  const retired: DynamoDbLocal[] = [];

  const lease = async (slot: Slot): Promise<string> => {
    if (slot.files >= FILES_PER_INSTANCE) {
      const fresh = await (slot.spare ?? startDynamoDbLocal());
      // Stopped a little later: the previous file's process may still be closing its connections.
      const old = slot.current;
      retired.push(old);
      setTimeout(() => void old.stop(), 10_000).unref();
      Object.assign(slot, { current: fresh, files: 0, spare: undefined });
    }
    slot.files += 1;
    if (slot.files === FILES_PER_INSTANCE && !slot.spare) {
      slot.spare = startDynamoDbLocal();
      // A spare that fails to start is started again at the swap.
      slot.spare.catch(() => {
        slot.spare = undefined;
      });
    }
    return slot.current.endpoint;
  };

  const server: Server = createServer((request, response) => {
    const pool = Number(new URL(request.url ?? '/', 'http://localhost').searchParams.get('pool'));
    const slot = slots[(Math.max(pool, 1) - 1) % slots.length] as Slot;
    lease(slot).then(
      (endpoint) => response.writeHead(200, { 'content-type': 'text/plain' }).end(endpoint),
      (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(String(error)),
    );
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address() as { port: number };

  return {
    leaseUrl: `http://127.0.0.1:${port}/lease`,
    async stop(): Promise<void> {
      await new Promise<void>((closed) => server.close(() => closed()));
      const spares = await Promise.allSettled(slots.map((slot) => slot.spare ?? Promise.reject(new Error('none'))));
      await Promise.all([
        ...slots.map((slot) => slot.current.stop()),
        ...spares.flatMap((spare) => (spare.status === 'fulfilled' ? [spare.value.stop()] : [])),
        ...retired.map((instance) => instance.stop()),
      ]);
    },
  };
};
