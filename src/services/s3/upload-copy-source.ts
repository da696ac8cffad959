import { IncomingHttpHeaders } from 'node:http';
import { needs } from '../../core/errors/aws-error.js';
import { S3Errors } from '../../core/errors/s3.js';
import { MAX_PUT_BYTES } from '../../core/s3/bodies.js';
import { BucketRecord, ObjectVersionRecord } from '../../store/metadata/s3-types.js';
import { S3Call } from './call.js';
import { CopyObjectSource, findCopyObjectSource } from './copy-object-source.js';

/**
 * The source of an UploadPartCopy: x-amz-copy-source as CopyObject reads it (copy-object-source.ts), and
 * x-amz-copy-source-range, which lets a part be any ≤ 5 GiB slice of a larger source — the way objects
 * larger than CopyObject's 5 GiB are copied.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPartCopy.html#API_UploadPartCopy_RequestSyntax
 */
const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v.join(',') : v);

/** The version to copy from; larger than 5 GiB only with a range (the part's limit is checked as it is written). */
export function findPartCopySource(call: S3Call, bucket: BucketRecord, src: CopyObjectSource, h: IncomingHttpHeaders): Promise<ObjectVersionRecord> {
  const ranged = one(h['x-amz-copy-source-range']) !== undefined;
  return findCopyObjectSource(call, bucket, src, ranged ? Number.POSITIVE_INFINITY : undefined);
}

export function copySourceRange(h: IncomingHttpHeaders, size: number): { start: number; end: number } | undefined {
  const value = one(h['x-amz-copy-source-range']);
  if (value === undefined) return undefined;
  const m = /^bytes=(\d+)-(\d+)$/.exec(value.trim());
  needs(m, S3Errors.InvalidArgument, 'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy');
  const start = Number(m[1]);
  const end = Number(m[2]);
  needs(start <= end && end < size, S3Errors.InvalidArgument, `Range specified is not valid for source object of size: ${size}`);
  needs(end - start + 1 <= MAX_PUT_BYTES, S3Errors.InvalidArgument, 'The specified copy range is larger than the maximum allowable size of a part: 5 GiB');
  return { start, end };
}
