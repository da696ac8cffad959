import { createHash } from 'node:crypto';
import { AwsError } from '../../core/errors/aws-error.js';
import { S3Errors } from '../../core/errors/s3.js';
import { bucketArn, checkBucketName, checkObjectKey, objectArn } from '../../core/s3/names.js';
import { ContextValue } from '../../core/policy/index.js';
import { BucketRecord } from '../../store/metadata/s3-types.js';
import { S3Access, S3Call, S3Input } from './call.js';

/** The bucket an operation addresses; NoSuchBucket when it does not exist. */
export async function needBucket(call: S3Call, input: S3Input): Promise<BucketRecord> {
  const name = input.bucket;
  if (name === undefined) throw new AwsError(S3Errors.MethodNotAllowed, 'The specified method is not allowed against this resource.');
  checkBucketName(name);
  const bucket = await call.deps.store.getBucket(name);
  if (!bucket) throw new AwsError(S3Errors.NoSuchBucket, 'The specified bucket does not exist');
  return bucket;
}

/** The object key an operation addresses, checked. */
export function needKey(input: S3Input): string {
  const key = input.key;
  if (key === undefined) throw new AwsError(S3Errors.InvalidRequest, 'A key must be specified');
  checkObjectKey(key);
  return key;
}

/** The object an operation addresses: its bucket (which must exist), its key (checked), one access to decide. */
export interface ObjectTarget {
  readonly bucket: BucketRecord;
  readonly key: string;
}

export async function resolveObject(call: S3Call, input: S3Input, action: string, conditions?: Record<string, ContextValue>): Promise<{ access: S3Access[]; state: ObjectTarget }> {
  const bucket = await needBucket(call, input);
  const key = needKey(input);
  return { access: [onObject(bucket, key, action, conditions)], state: { bucket, key } };
}

export function onBucket(bucket: BucketRecord, action: string, conditions?: Record<string, ContextValue>): S3Access {
  return { action, resource: bucketArn(bucket.name), ownerAccountId: bucket.accountId, bucket, ...(conditions ? { conditions } : {}) };
}

export function onObject(bucket: BucketRecord, key: string, action: string, conditions?: Record<string, ContextValue>): S3Access {
  return { action, resource: objectArn(bucket.name, key), ownerAccountId: bucket.accountId, bucket, ...(conditions ? { conditions } : {}) };
}

/** S3's canonical user id of an account (Owner/ID in listings): a stable 64-hex id. */
export function canonicalUserId(accountId: string): string {
  return createHash('sha256').update(`strongroom canonical user ${accountId}`).digest('hex');
}

export function owner(accountId: string): { ID: string } {
  return { ID: canonicalUserId(accountId) };
}
