import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  NotFound,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { ObjectStore, StoredObject } from '../transfer/object-store.port.ts';

/** S3 parts are at least 5 MiB (but the last); 8 MiB keeps 10 000 parts above 80 GB. */
const PART_BYTES = 8 * 1024 * 1024;

/**
 * Buffers a stream into parts of PART_BYTES: an object smaller than one part is one PutObject,
 * a larger one a multipart upload holding one part in memory at a time (aborted on failure, so
 * no half-written object is ever visible).
 */
const upload = async (
  s3: S3Client,
  bucket: string,
  key: string,
  body: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
  contentType: string,
): Promise<{ size: number }> => {
  let buffered: Buffer[] = [];
  let bufferedBytes = 0;
  let size = 0;
  let uploadId: string | undefined;
  const parts: Array<{ ETag: string | undefined; PartNumber: number }> = [];
  const flush = async () => {
    if (!uploadId) uploadId = (await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: contentType }))).UploadId;
    const PartNumber = parts.length + 1;
    const answer = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber, Body: Buffer.concat(buffered) }));
    parts.push({ ETag: answer.ETag, PartNumber });
    buffered = [];
    bufferedBytes = 0;
  };
  try {
    for await (const piece of body) {
      const bytes = typeof piece === 'string' ? Buffer.from(piece, 'utf8') : Buffer.from(piece);
      buffered.push(bytes);
      bufferedBytes += bytes.length;
      size += bytes.length;
      if (bufferedBytes >= PART_BYTES) await flush();
    }
    if (!uploadId) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.concat(buffered), ContentType: contentType }));
      return { size };
    }
    if (bufferedBytes > 0) await flush();
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
    return { size };
  } catch (error) {
    if (uploadId) await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })).catch(() => undefined);
    throw error;
  }
};

/** The import bucket on S3. */
export const s3ObjectStore = (s3: S3Client, bucket: string): ObjectStore => ({
  head: async (key): Promise<StoredObject | undefined> => {
    try {
      const answer = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return { key, size: answer.ContentLength ?? 0, etag: (answer.ETag ?? '').replaceAll('"', ''), metadata: answer.Metadata ?? {} };
    } catch (error) {
      if (error instanceof NotFound) return undefined;
      throw error;
    }
  },
  read: async (key) => {
    const answer = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!answer.Body) throw new Error(`s3://${bucket}/${key} has no body`);
    return answer.Body as AsyncIterable<Uint8Array>;
  },
  write: (key, body, contentType) => upload(s3, bucket, key, body, contentType),
  downloadUrl: (key, expiresIn) => getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn }),
});
