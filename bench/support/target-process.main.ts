import { startRecordingProxy } from '../../test/support/recording-proxy.ts';
import { startScimmyServer } from '../../test/support/scimmy-server.ts';

/**
 * The child side of `startTargetProcess`: a SCIM target (scimmy, or the upstream it is given)
 * behind a recording proxy, in a process of its own. It prints `{"url": ...}` once listening and
 * answers `requests` with what the proxy recorded (method, path and time; bodies stay here).
 */
const [token, upstream] = process.argv.slice(2);
if (!token || !process.send) throw new Error('usage: forked with an IPC channel, <token> [upstream]');
const target = upstream ? undefined : await startScimmyServer(token);
const proxy = await startRecordingProxy((upstream ?? (target as { url: string }).url).replace(/\/scim\/v2$/, ''));
process.on('message', (message: { type: string }) => {
  if (message.type === 'requests') process.send?.({ type: 'requests', requests: proxy.requests.map(({ method, path, at }) => ({ method, path, at })) });
  if (message.type === 'stop') void Promise.all([proxy.close(), target?.stop()]).then(() => process.exit(0));
});
process.send({ type: 'ready', url: proxy.url });
