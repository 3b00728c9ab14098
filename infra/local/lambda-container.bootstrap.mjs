// The first module of a local Lambda container (a worker thread): it makes TypeScript loadable
// in this thread (a worker does not inherit the loader hooks of the thread that started it),
// then starts the container itself. Plain JavaScript, because nothing can load TypeScript yet.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.container);
