import { defineOperation } from '../../operation.js';
import { S3Access, S3Call, S3Input } from '../call.js';
import { findBucket, onBucket } from '../resources.js';
import { BucketRecord } from '../../../store/metadata/s3-types.js';
import { xmlDocument } from '../xml.js';

/**
 * GET /{Bucket}?location: empty for us-east-1, as S3 answers. https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLocation.html
 * Answered whatever Region the request is signed for: it is how clients (s3cmd, rclone, minio-go, boto)
 * find a bucket's Region, with a request signed for us-east-1.
 */
export const GetBucketLocation = defineOperation<S3Call, S3Input, BucketRecord, S3Access>({
  name: 'GetBucketLocation',
  action: 's3:GetBucketLocation',
  readOnly: true,
  async resolve(input, call) {
    const bucket = await findBucket(call, input.bucket ?? '');
    return { access: [onBucket(bucket, 's3:GetBucketLocation')], state: bucket };
  },
  async handle(_input, _call, bucket) {
    return { xml: xmlDocument('LocationConstraint', { '#text': bucket.region === 'us-east-1' ? '' : bucket.region }) };
  },
});
