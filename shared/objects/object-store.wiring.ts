import { fileURLToPath } from 'node:url';
import { S3Client } from '@aws-sdk/client-s3';
import type { ObjectStore } from '../transfer/object-store.port.ts';
import { directoryObjectStore } from './directory-object.store.ts';
import { s3ObjectStore } from './s3-object.store.ts';

/**
 * The import bucket named by IMPORT_BUCKET (a `bucket` grant, shared/topology/function-environment.ts):
 * a bucket name in AWS, a `file:` URL of the directory standing in for it on the local stack.
 */
export const objectStoreOf = (bucket: string, s3: () => S3Client = () => new S3Client({})): ObjectStore =>
  bucket.startsWith('file:') ? directoryObjectStore(fileURLToPath(bucket)) : s3ObjectStore(s3(), bucket);
