import { BucketRecord } from '../../../store/metadata/s3-types.js';
import { defineOperation } from '../../operation.js';
import { S3Access, S3Call, S3Input } from '../call.js';
import { needBucket, onBucket } from '../resources.js';

/** DELETE /{Bucket}?policy: https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketPolicy.html */
export const DeleteBucketPolicy = defineOperation<S3Call, S3Input, BucketRecord, S3Access>({
  name: 'DeleteBucketPolicy',
  action: 's3:DeleteBucketPolicy',
  readOnly: false,
  async resolve(input, call) {
    const bucket = await needBucket(call, input);
    return { access: [onBucket(bucket, 's3:DeleteBucketPolicy')], state: bucket };
  },
  async handle(_input, call, bucket) {
    await call.deps.store.updateBucket(bucket.name, { policy: null });
    return { status: 204 };
  },
});
