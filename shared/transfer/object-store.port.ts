/**
 * The import bucket as import and export see it: objects under a key, read and written as
 * streams. In AWS an S3 bucket (shared/objects/s3-object.store.ts); locally a directory under
 * DATA_DIR behind the same port (shared/objects/directory-object.store.ts), so the import
 * function runs on the local stack as it is deployed.
 */

/** What an object is, without its content. */
export interface StoredObject {
  key: string;
  size: number;
  /** Changes whenever the content does (S3's ETag): part of an import's fingerprint. */
  etag: string;
  /** User metadata (S3 `x-amz-meta-*`), names lowercased. */
  metadata: Record<string, string>;
}

export interface ObjectStore {
  /** The object's description, or undefined when there is no such key. */
  head(key: string): Promise<StoredObject | undefined>;
  /** The object's content as it streams; rejects when there is no such key. */
  read(key: string): Promise<AsyncIterable<Uint8Array>>;
  /** Writes an object whole from a stream of parts; readers never see it half-written. */
  write(key: string, body: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>, contentType: string): Promise<{ size: number }>;
  /** A URL that downloads the object without credentials until it expires. */
  downloadUrl(key: string, expiresInSeconds: number): Promise<string>;
}

/** Key prefixes of the import bucket, each with its own purpose and lifecycle. */
export const BUCKET_PREFIXES = {
  /** Files operators upload: an object created here starts an import. */
  imports: 'imports/',
  /** Export files, handed out as download URLs. */
  exports: 'exports/',
  /** Import chunks too large for a queue message, carried by reference. */
  chunks: 'chunks/',
  /** Mapping files (JSON) an import names by key: reusable, so they do not expire. */
  mappings: 'mappings/',
} as const;
