import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ObjectStore, StoredObject } from '../transfer/object-store.port.ts';

/**
 * Where an object's metadata (S3 `x-amz-meta-*`) and ETag are kept beside it: `<key>.meta.json`,
 * `{"metadata": {"mode": "update"}}` (never a listed key: keys never end so). An operator who
 * moves a file in writes it first, as an upload sends its metadata with the content.
 */
const META_SUFFIX = '.meta.json';

/**
 * The import bucket on the local stack: a directory (under DATA_DIR), one file per key. A write
 * goes to a temporary file renamed into place, so a reader (or the local upload trigger) never
 * sees half an object, as with S3. Download URLs are `file:` URLs: the operator is on this machine.
 */
export const directoryObjectStore = (root: string): ObjectStore => {
  const base = resolve(root);
  const pathOf = (key: string) => {
    const path = resolve(base, key);
    if (!path.startsWith(base + sep) || key.endsWith(META_SUFFIX)) throw new Error(`not an object key: ${key}`);
    return path;
  };
  return {
    head: async (key): Promise<StoredObject | undefined> => {
      const path = pathOf(key);
      try {
        const [info, meta] = await Promise.all([stat(path), readFile(`${path}${META_SUFFIX}`, 'utf8').catch(() => '{}')]);
        if (!info.isFile()) return undefined;
        const sidecar = JSON.parse(meta) as { etag?: string; metadata?: Record<string, string>; size?: number; mtimeMs?: number };
        // A sidecar written for an earlier version of the file (one moved in over it since) is not
        // this object's: S3 replaces an object's metadata with its content. A sidecar written by
        // hand (metadata only) describes the file moved in after it.
        const current = sidecar.mtimeMs === undefined || (sidecar.mtimeMs === info.mtimeMs && sidecar.size === info.size);
        const metadata = current ? Object.fromEntries(Object.entries(sidecar.metadata ?? {}).map(([name, value]) => [name.toLowerCase(), String(value)])) : {};
        return { key, size: info.size, etag: (current ? sidecar.etag : undefined) ?? `${info.size}-${info.mtimeMs}`, metadata };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
    read: async (key) => {
      const path = pathOf(key);
      await stat(path);
      return createReadStream(path);
    },
    write: async (key, body) => writeObject(pathOf(key), body, {}),
    downloadUrl: async (key) => pathToFileURL(pathOf(key)).href,
  };
};

/**
 * Writes an object of the directory store with user metadata, as an S3 PUT with `x-amz-meta-*`
 * headers would: what an operator's upload does locally.
 */
export const putLocalObject = async (
  root: string,
  key: string,
  body: AsyncIterable<string | Uint8Array> | string,
  metadata: Record<string, string> = {},
): Promise<{ size: number }> => {
  const path = resolve(root, key);
  if (!path.startsWith(resolve(root) + sep)) throw new Error(`not an object key: ${key}`);
  return writeObject(path, typeof body === 'string' ? [body] : body, metadata);
};

const writeObject = async (path: string, body: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>, metadata: Record<string, string>) => {
  await mkdir(dirname(path), { recursive: true });
  const temporary = join(dirname(path), `.${randomBytes(6).toString('hex')}.partial`);
  const hash = createHash('md5');
  let size = 0;
  try {
    const out = createWriteStream(temporary);
    for await (const piece of body) {
      const bytes = typeof piece === 'string' ? Buffer.from(piece, 'utf8') : Buffer.from(piece);
      hash.update(bytes);
      size += bytes.length;
      if (!out.write(bytes)) await new Promise<void>((done) => out.once('drain', () => done()));
    }
    await new Promise<void>((done, fail) => out.end((error?: Error | null) => (error ? fail(error) : done())));
    const lowered = Object.fromEntries(Object.entries(metadata).map(([name, value]) => [name.toLowerCase(), value]));
    // Renaming keeps the file's size and modification time: they tie the sidecar to this version of it.
    const written = await stat(temporary);
    await writeFile(`${path}${META_SUFFIX}`, JSON.stringify({ etag: hash.digest('hex'), metadata: lowered, size: written.size, mtimeMs: written.mtimeMs }));
    await rename(temporary, path);
    return { size };
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
};

/** The key of a file of a directory store, or undefined for the store's own files (metadata, partial writes). */
export const localObjectKey = (root: string, path: string): string | undefined => {
  const key = relative(resolve(root), path).split(sep).join('/');
  const name = key.split('/').at(-1) ?? '';
  return key.startsWith('..') || name.startsWith('.') || name.endsWith(META_SUFFIX) ? undefined : key;
};
