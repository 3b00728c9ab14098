import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { S3Event } from 'aws-lambda';
import { localObjectKey } from '#shared/objects/directory-object.store.ts';
import type { ObjectCreatedTrigger } from '#shared/topology/topology.types.ts';
import type { LocalFunction } from './lambda-runtime.ts';

/** Every file under `directory`, recursively (a missing directory has none). */
const filesUnder = async (directory: string): Promise<string[]> => {
  const entries = await readdir(directory, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
};

/**
 * The S3 event notification of a bucket's local stand-in (a directory): every `pollMs` it looks
 * for objects under the trigger's prefix with one of its suffixes that were written since it
 * last looked, and invokes the function with the event S3 sends, one record per object. Objects
 * there at start were notified by an earlier run (DATA_DIR), as S3 notifies each write once.
 * The directory store writes by renaming a finished file into place, so no half-written object
 * is ever notified.
 */
export class LocalBucketTrigger {
  private readonly seen = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  notified = 0;

  constructor(
    private readonly root: string,
    private readonly bucketName: string,
    private readonly trigger: ObjectCreatedTrigger,
    private readonly fn: LocalFunction,
    private readonly pollMs = 250,
  ) {}

  async start(): Promise<void> {
    for (const [key, version] of await this.objects()) this.seen.set(key, version);
    this.arm();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private arm(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.poll()
        .catch((error: unknown) => console.error(`${this.fn.spec.name} on an upload to ${this.bucketName} failed:`, error))
        .finally(() => this.arm());
    }, this.pollMs);
  }

  /** The trigger's objects, each with a version that changes when it is written again. */
  private async objects(): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    for (const path of await filesUnder(join(this.root, this.trigger.prefix))) {
      const key = localObjectKey(this.root, path);
      if (!key || !this.trigger.suffixes.some((suffix) => key.endsWith(suffix))) continue;
      const info = await stat(path).catch(() => undefined);
      if (info) found.set(key, `${info.size}:${info.mtimeMs}:${info.ino}`);
    }
    return found;
  }

  private async poll(): Promise<void> {
    const fresh: Array<{ key: string; size: number }> = [];
    for (const [key, version] of await this.objects()) {
      if (this.seen.get(key) === version) continue;
      this.seen.set(key, version);
      fresh.push({ key, size: Number(version.split(':')[0]) });
    }
    if (fresh.length === 0) return;
    this.notified += fresh.length;
    const time = new Date().toISOString();
    const event = {
      Records: fresh.map(({ key, size }) => ({
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'us-east-1',
        eventTime: time,
        eventName: 'ObjectCreated:Put',
        userIdentity: { principalId: 'local' },
        requestParameters: { sourceIPAddress: '127.0.0.1' },
        responseElements: { 'x-amz-request-id': 'local', 'x-amz-id-2': 'local' },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: this.fn.spec.name,
          bucket: { name: this.bucketName, ownerIdentity: { principalId: 'local' }, arn: `arn:aws:s3:::${this.bucketName}` },
          // S3 URL-encodes keys in notifications, spaces as `+`.
          object: { key: encodeURIComponent(key).replaceAll('%2F', '/').replaceAll('%20', '+'), size, eTag: '', sequencer: '' },
        },
      })),
    } satisfies S3Event;
    await this.fn.invoke(event);
  }
}
