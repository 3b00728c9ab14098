import { fork } from 'node:child_process';
import { resolve } from 'node:path';

export interface TargetRequest {
  method: string;
  path: string;
  at: number;
}

/**
 * A SCIM target in a process of its own, with every request it receives recorded: scimmy (an
 * in-memory SCIM server) when no `upstream` is given, otherwise a recording proxy in front of
 * `upstream`. A third-party target is not the hub's work: in the hub's process, the target and
 * its proxy took the event loop the hub's own functions needed, and the figures measured both.
 */
export const startTargetProcess = async (token: string, upstream?: string) => {
  const child = fork(resolve(import.meta.dirname, 'target-process.main.ts'), [token, ...(upstream ? [upstream] : [])], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = <T>(type: string) =>
    new Promise<T>((done, fail) => {
      const onMessage = (message: { type: string } & T) => {
        if (message.type !== type) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        done(message);
      };
      const onExit = (code: number | null) => fail(new Error(`the target process exited (${code}) before it answered ${type}`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const { url } = await next<{ url: string }>('ready');
  return {
    /** The proxy's origin; the SCIM base is `${url}/scim/v2` when scimmy serves it. */
    url,
    async requests(): Promise<TargetRequest[]> {
      const answer = next<{ requests: TargetRequest[] }>('requests');
      child.send({ type: 'requests' });
      return (await answer).requests;
    },
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('exit', () => {
          clearTimeout(force);
          done();
        });
        child.send({ type: 'stop' });
      }),
  };
};
