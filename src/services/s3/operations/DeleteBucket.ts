import { AwsError } from '../../../core/errors/aws-error.js';
import { S3Errors } from '../../../core/errors/s3.js';
import { defineOperation } from '../../operation.js';
import { S3Access, S3Call, S3Input } from '../call.js';
import { removeBlobs } from '../object-writes.js';
import { needBucket, onBucket } from '../resources.js';

/**
 * DELETE /{Bucket}: https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucket.html
 * "All objects (including all object versions and delete markers) in the bucket must be deleted before the
 * bucket itself can be deleted" (BucketNotEmpty otherwise). Multipart uploads still in progress do not keep
 * it: S3 aborts them. The store aborts them and deletes the bucket in one transaction; the aborted parts'
 * blobs are removed after that commit, as AbortMultipartUpload removes its parts'.
 */
export const DeleteBucket = defineOperation<S3Call, S3Input, string, S3Access>({
  name: 'DeleteBucket',
  action: 's3:DeleteBucket',
  readOnly: false,
  async resolve(input, call) {
    const bucket = await needBucket(call, input);
    return { access: [onBucket(bucket, 's3:DeleteBucket')], state: bucket.name };
  },
  async handle(_input, call, name) {
    const outcome = await call.deps.store.deleteBucket(name);
    if (outcome === 'not-empty') throw new AwsError(S3Errors.BucketNotEmpty, 'The bucket you tried to delete is not empty');
    if (outcome === 'missing') throw new AwsError(S3Errors.NoSuchBucket, 'The specified bucket does not exist');
    await removeBlobs(call, outcome.abortedParts);
    return { status: 204 };
  },
});
