import { IncomingHttpHeaders } from 'node:http';
import { AwsError, needs } from '../../core/errors/aws-error.js';
import { S3Errors } from '../../core/errors/s3.js';
import { BucketRecord, WriteCondition, WriteConditionFailed } from '../../store/metadata/s3-types.js';
import { S3Access, S3Call } from './call.js';
import { onObject } from './resources.js';

/**
 * Conditional writes (PutObject, CopyObject, CompleteMultipartUpload):
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html
 * `If-None-Match: *` writes only when the key has no current object (a delete marker counts as none), else
 * 412 PreconditionFailed; `If-Match: <etag>` only when the current object has that ETag (412), and 404
 * NoSuchKey when there is none. The store checks the condition again in the transaction that commits the new
 * version, so of two concurrent creates exactly one succeeds and the other gets 412 — never both.
 */

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v.join(',') : v);
const unquote = (etag: string): string => etag.trim().replace(/^"(.*)"$/, '$1');

/** The request's write condition; undefined when it sets none. If-None-Match takes only `*` on writes. */
export function writeConditionOf(h: IncomingHttpHeaders): WriteCondition | undefined {
  const ifNoneMatch = one(h['if-none-match']);
  const ifMatch = one(h['if-match']);
  if (ifNoneMatch === undefined && ifMatch === undefined) return undefined;
  if (ifNoneMatch !== undefined) {
    needs(ifNoneMatch.trim() === '*', S3Errors.NotImplemented, 'A header you provided implies functionality that is not implemented');
  }
  return { ...(ifNoneMatch !== undefined ? { ifNoneMatch: true as const } : {}), ...(ifMatch !== undefined ? { ifMatch: unquote(ifMatch) } : {}) };
}

/** The S3 error of a condition that did not hold. */
export function conditionError(reason: WriteConditionFailed['reason']): AwsError {
  if (reason === 'missing') return new AwsError(S3Errors.NoSuchKey, 'The specified key does not exist.');
  const err = new AwsError(S3Errors.PreconditionFailed, 'At least one of the pre-conditions you specified did not hold');
  return Object.assign(err, { details: { Condition: reason === 'exists' ? 'If-None-Match' : 'If-Match' } });
}

/**
 * The early check, before a body is read or a part list resolved (a create that cannot succeed fails at
 * once, not after gigabytes); the store's check at commit is the one that decides.
 */
export async function precheckWrite(call: S3Call, bucket: BucketRecord, key: string, condition: WriteCondition | undefined): Promise<void> {
  if (!condition) return;
  const current = await call.deps.store.getVersion(bucket.name, key);
  const exists = current !== undefined && !current.deleteMarker;
  if (condition.ifNoneMatch && exists) throw conditionError('exists');
  if (condition.ifMatch !== undefined) {
    if (!exists) throw conditionError('missing');
    if (current.etag !== condition.ifMatch) throw conditionError('etag');
  }
}

/** Runs a commit that carries `condition`, turning WriteConditionFailed into S3's error. */
export async function committing<T>(condition: WriteCondition | undefined, commit: () => Promise<T>): Promise<T> {
  try {
    return await commit();
  } catch (err) {
    if (err instanceof WriteConditionFailed && condition) throw conditionError(err.reason);
    throw err;
  }
}

/**
 * The accesses a conditional write adds to s3:PutObject, and the condition keys bucket policies use to
 * require one (s3:if-none-match, s3:if-match; https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes-enforce.html).
 * If-Match also needs s3:GetObject: its answer tells the object's ETag.
 */
export function conditionalWriteKeys(h: IncomingHttpHeaders): Record<string, string> {
  const ifNoneMatch = one(h['if-none-match']);
  const ifMatch = one(h['if-match']);
  return { ...(ifNoneMatch !== undefined ? { 's3:if-none-match': ifNoneMatch } : {}), ...(ifMatch !== undefined ? { 's3:if-match': ifMatch } : {}) };
}

export function conditionalReadAccess(h: IncomingHttpHeaders, bucket: BucketRecord, key: string): S3Access[] {
  return h['if-match'] !== undefined ? [onObject(bucket, key, 's3:GetObject')] : [];
}
