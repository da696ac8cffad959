import { defineOperation } from '../../operation.js';
import { S3Access, S3Call, S3Input } from '../call.js';
import { needBucket, onBucket } from '../resources.js';
import { BucketRecord } from '../../../store/metadata/s3-types.js';

/** HEAD /{Bucket}: https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html (needs s3:ListBucket). */
export const HeadBucket = defineOperation<S3Call, S3Input, BucketRecord, S3Access>({
  name: 'HeadBucket',
  action: 's3:ListBucket',
  readOnly: true,
  async resolve(input, call) {
    const bucket = await needBucket(call, input);
    return { access: [onBucket(bucket, 's3:ListBucket')], state: bucket };
  },
  async handle(_input, _call, bucket) {
    return { headers: { 'x-amz-bucket-region': bucket.region } };
  },
});
