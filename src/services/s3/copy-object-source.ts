import { IncomingHttpHeaders } from 'node:http';
import { AwsError, needs } from '../../core/errors/aws-error.js';
import { S3Errors } from '../../core/errors/s3.js';
import { checkBucketName, checkObjectKey } from '../../core/s3/names.js';
import { BucketRecord, ObjectVersionRecord } from '../../store/metadata/s3-types.js';
import { S3Call } from './call.js';
import { checkVersionId, findVersion } from './object-reads.js';

/** S3 copies at most 5 GiB in one CopyObject (larger objects: UploadPartCopy). https://docs.aws.amazon.com/AmazonS3/latest/userguide/copy-object.html */
export const MAX_COPY_BYTES = 5 * 1024 ** 3;

export interface CopyObjectSource {
  readonly bucket: string;
  readonly key: string;
  /** From `?versionId=` in the header; undefined: the latest version. */
  readonly versionId: string | undefined;
}

/**
 * CopyObject's x-amz-copy-source: `bucket/key` or `/bucket/key`, URL-encoded (a '?' in the key is %3F, so the
 * query is split off first), optionally `?versionId=…`. Access point ARNs are not served here.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html#API_CopyObject_RequestSyntax
 */
export function parseCopyObjectSource(value: string | string[] | undefined): CopyObjectSource {
  const raw = Array.isArray(value) ? value.join(',') : (value ?? '');
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  let versionId: string | undefined;
  if (q >= 0) {
    versionId = new URLSearchParams(raw.slice(q + 1)).get('versionId') ?? undefined;
    if (versionId !== undefined) checkVersionId(versionId);
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    throw new AwsError(S3Errors.InvalidArgument, 'Invalid copy source encoding');
  }
  if (decoded.startsWith('/')) decoded = decoded.slice(1);
  const slash = decoded.indexOf('/');
  needs(slash > 0 && slash < decoded.length - 1, S3Errors.InvalidArgument, 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey');
  const bucket = decoded.slice(0, slash);
  const key = decoded.slice(slash + 1);
  checkBucketName(bucket);
  checkObjectKey(key);
  return { bucket, key, versionId };
}

/**
 * The version a copy reads. A latest delete marker is NoSuchKey (as if deleted); naming a delete marker
 * by version id is 400 InvalidRequest, "because you are not allowed to specify a delete marker as a
 * version for the x-amz-copy-source" (CopyObject, Versioning). Larger than 5 GiB: InvalidRequest.
 */
export async function findCopyObjectSource(call: S3Call, bucket: BucketRecord, src: CopyObjectSource, maxBytes = MAX_COPY_BYTES): Promise<ObjectVersionRecord> {
  let v: ObjectVersionRecord;
  try {
    v = await findVersion(call, bucket, src.key, src.versionId);
  } catch (err) {
    if (err instanceof AwsError && err.code === S3Errors.MethodNotAllowed.code) {
      throw new AwsError(S3Errors.InvalidRequest, 'The source of a copy request may not specifically refer to a delete marker by version id.');
    }
    if (err instanceof AwsError && err.code === S3Errors.NoSuchKey.code) throw new AwsError(S3Errors.NoSuchKey, 'The specified key does not exist.');
    throw err;
  }
  needs(v.size <= maxBytes, S3Errors.InvalidRequest, `The specified copy source is larger than the maximum allowable size for a copy source: ${MAX_COPY_BYTES}`);
  return v;
}

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v.join(',') : v);

/**
 * x-amz-copy-source-if-match / -if-none-match / -if-modified-since / -if-unmodified-since: every failure is
 * 412 PreconditionFailed. An If-Match that holds overrides a failing If-Unmodified-Since, and If-None-Match
 * decides over If-Modified-Since, as the CopyObject reference describes the pairs.
 */
export function checkCopySourceConditions(v: ObjectVersionRecord, h: IncomingHttpHeaders): void {
  const etag = `"${v.etag}"`;
  const ifMatch = one(h['x-amz-copy-source-if-match']);
  const ifNoneMatch = one(h['x-amz-copy-source-if-none-match']);
  const ifModifiedSince = one(h['x-amz-copy-source-if-modified-since']);
  const ifUnmodifiedSince = one(h['x-amz-copy-source-if-unmodified-since']);
  const matches = (list: string) => list.split(',').map((s) => s.trim()).some((t) => t === '*' || t === etag || t === v.etag);
  const seconds = Math.floor(v.lastModified / 1000) * 1000;
  const failed = () => new AwsError(S3Errors.PreconditionFailed, 'At least one of the pre-conditions you specified did not hold');
  if (ifMatch !== undefined) {
    if (!matches(ifMatch)) throw failed();
  } else if (ifUnmodifiedSince !== undefined) {
    const t = Date.parse(ifUnmodifiedSince);
    if (!Number.isNaN(t) && seconds > t) throw failed();
  }
  if (ifNoneMatch !== undefined) {
    if (matches(ifNoneMatch)) throw failed();
  } else if (ifModifiedSince !== undefined) {
    const t = Date.parse(ifModifiedSince);
    if (!Number.isNaN(t) && seconds <= t) throw failed();
  }
}
