import { createHash } from 'node:crypto';
import { AwsError } from '../../core/errors/aws-error.js';
import { S3Errors } from '../../core/errors/s3.js';
import { bucketArn, checkBucketName, checkObjectKey, objectArn } from '../../core/s3/names.js';
import { ContextValue } from '../../core/policy/index.js';
import { BucketRecord } from '../../store/metadata/s3-types.js';
import { S3Access, S3Call, S3Input } from './call.js';

/**
 * The bucket an operation addresses; NoSuchBucket when it does not exist, and refused (wrongRegion) when
 * the request is signed for another Region than the bucket's: a bucket is served in its own Region only.
 */
export async function needBucket(call: S3Call, input: S3Input): Promise<BucketRecord> {
  const name = input.bucket;
  if (name === undefined) throw new AwsError(S3Errors.MethodNotAllowed, 'The specified method is not allowed against this resource.');
  const bucket = await findBucket(call, name);
  if (bucket.region !== call.request.region) throw wrongRegion(bucket, call.request.region, input.host);
  return bucket;
}

/** A bucket by name, in any Region (a copy source may be in another Region); NoSuchBucket when it does not exist. */
export async function findBucket(call: S3Call, name: string): Promise<BucketRecord> {
  checkBucketName(name);
  const bucket = await call.deps.store.getBucket(name);
  if (!bucket) throw new AwsError(S3Errors.NoSuchBucket, 'The specified bucket does not exist');
  return bucket;
}

/**
 * A request to a bucket signed for another Region: S3 answers it as an endpoint of the wrong Region does,
 * 301 PermanentRedirect with the bucket's Region in `x-amz-bucket-region` (HEAD: the header alone), which
 * is what the SDKs' region redirects follow — @aws-sdk/client-s3 with followRegionRedirects (a 301 with
 * that header) and botocore / the aws CLI (PermanentRedirect or any 301) re-sign for that Region and retry.
 * (S3's other answer, 400 AuthorizationHeaderMalformed, is not followed by @aws-sdk/client-s3 except for
 * HeadBucket; one endpoint serves every Region here, so the redirect is the answer every client follows.)
 * The body names the Region in the message and in <Region>, as AuthorizationHeaderMalformed does, and
 * <Endpoint> is this server: only the signing Region must change.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList (PermanentRedirect)
 */
export function wrongRegion(bucket: BucketRecord, signedFor: string, host: string): AwsError {
  const err = new AwsError(
    S3Errors.PermanentRedirect,
    `The bucket you are attempting to access must be addressed using the specified endpoint and Region; the region '${signedFor}' is wrong; expecting '${bucket.region}'`,
  );
  (err as AwsError & { headers?: Record<string, string> }).headers = { 'x-amz-bucket-region': bucket.region };
  (err as AwsError & { details?: Record<string, string> }).details = { Endpoint: host, Bucket: bucket.name, Region: bucket.region };
  return err;
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
