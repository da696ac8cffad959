import { BucketRecord } from '../../../store/metadata/s3-types.js';
import { defineOperation } from '../../operation.js';
import { S3Access, S3Call, S3Input } from '../call.js';
import { needBucket, onBucket } from '../resources.js';

/** DELETE /{Bucket}?encryption: back to the SSE-S3 default. https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketEncryption.html */
export const DeleteBucketEncryption = defineOperation<S3Call, S3Input, BucketRecord, S3Access>({
  name: 'DeleteBucketEncryption',
  action: 's3:PutEncryptionConfiguration',
  readOnly: false,
  async resolve(input, call) {
    const bucket = await needBucket(call, input);
    return { access: [onBucket(bucket, 's3:PutEncryptionConfiguration')], state: bucket };
  },
  async handle(_input, call, bucket) {
    await call.deps.store.updateBucket(bucket.name, { encryption: null });
    return { status: 204 };
  },
});
