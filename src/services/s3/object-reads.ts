import { AwsError, needs } from '../../core/errors/aws-error.js';
import { S3Errors } from '../../core/errors/s3.js';
import { ObjectKeys } from '../../core/s3/sse.js';
import { BucketRecord, ObjectVersionRecord } from '../../store/metadata/s3-types.js';
import { S3Call, S3Input } from './call.js';
import { customerKeyOf } from './sse-headers.js';
import { httpTime } from './xml.js';

/**
 * A version id as a request names it: 'null' (the null version) or one of ours (newVersionId). Anything
 * else cannot name a version, and S3 answers 400 InvalidArgument rather than 404 for it.
 */
export function checkVersionId(versionId: string): void {
  needs(versionId === 'null' || /^[A-Za-z0-9_-]{32}$/.test(versionId), S3Errors.InvalidArgument, 'Invalid version id specified');
}

/**
 * The version a GET/HEAD/copy addresses (latest unless versionId); NoSuchKey / NoSuchVersion as S3 answers.
 * A delete marker is never read: the latest one is 404 NoSuchKey, one named by version id 405
 * MethodNotAllowed, both with x-amz-delete-marker, its version id and (405) its Last-Modified.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/DeleteMarker.html
 */
export async function findVersion(call: S3Call, bucket: BucketRecord, key: string, versionId: string | undefined | null): Promise<ObjectVersionRecord> {
  if (versionId != null) checkVersionId(versionId);
  const v = await call.deps.store.getVersion(bucket.name, key, versionId ?? undefined);
  if (!v) {
    if (versionId != null) {
      throw new AwsError(S3Errors.NoSuchVersion, 'The specified version does not exist.');
    }
    throw new AwsError(S3Errors.NoSuchKey, 'The specified key does not exist.');
  }
  if (v.deleteMarker) {
    // A GET of a delete marker: 404 NoSuchKey when it is the latest, 405 when addressed by version id.
    const err = versionId != null
      ? new AwsError(S3Errors.MethodNotAllowed, 'The specified method is not allowed against this resource.')
      : new AwsError(S3Errors.NoSuchKey, 'The specified key does not exist.');
    (err as AwsError & { headers?: Record<string, string> }).headers = {
      'x-amz-delete-marker': 'true',
      'x-amz-version-id': v.versionId,
      ...(versionId != null ? { 'last-modified': httpTime(v.lastModified) } : {}),
    };
    throw err;
  }
  return v;
}

/** The object key of a stored version (SSE-C: the request must carry the customer key; SSE-KMS: Decrypt as the caller). */
/**
 * HEAD's check: it reads no bytes, so it opens no key — SSE-KMS objects need no kms:Decrypt to be
 * HEADed — but an SSE-C object still wants its key (missing → 400, wrong → 403), as S3 answers.
 */
export function checkReadKey(call: S3Call, input: S3Input, v: ObjectVersionRecord): void {
  const customer = customerKeyOf(input.headers, call.request.secureTransport);
  if (customer && v.encryption?.algorithm !== 'SSE-C') {
    throw new AwsError(S3Errors.InvalidRequest, 'The encryption parameters are not applicable to this object.');
  }
  if (v.encryption?.algorithm !== 'SSE-C') return;
  if (!customer) {
    throw new AwsError(S3Errors.InvalidRequest, 'The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.');
  }
  if (!ObjectKeys.customerKeyMatches(v.encryption, customer.key)) {
    throw new AwsError(S3Errors.AccessDenied, 'The provided encryption parameters did not match the ones used originally.');
  }
}

/** The object key of `v`, a version in `bucket` (whose Region's KMS opens an SSE-KMS key). */
export async function openObjectKey(call: S3Call, input: S3Input, bucket: BucketRecord, v: ObjectVersionRecord, copySource = false): Promise<Buffer> {
  const customer = customerKeyOf(input.headers, call.request.secureTransport, copySource);
  if (customer && v.encryption?.algorithm !== 'SSE-C') {
    throw new AwsError(S3Errors.InvalidRequest, 'The encryption parameters are not applicable to this object.');
  }
  return call.deps.keys.open(v.encryption!, { bucket: v.bucket, key: v.key }, call.kmsFor(bucket), customer);
}
