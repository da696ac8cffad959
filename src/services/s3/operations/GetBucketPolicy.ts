import { Readable } from 'node:stream';
import { AwsError } from '../../../core/errors/aws-error.js';
import { S3Errors } from '../../../core/errors/s3.js';
import { BucketRecord } from '../../../store/metadata/s3-types.js';
import { defineOperation } from '../../operation.js';
import { S3Access, S3Call, S3Input } from '../call.js';
import { needBucket, onBucket } from '../resources.js';

/** GET /{Bucket}?policy: the policy document as stored. https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketPolicy.html */
export const GetBucketPolicy = defineOperation<S3Call, S3Input, BucketRecord, S3Access>({
  name: 'GetBucketPolicy',
  action: 's3:GetBucketPolicy',
  readOnly: true,
  async resolve(input, call) {
    const bucket = await needBucket(call, input);
    return { access: [onBucket(bucket, 's3:GetBucketPolicy')], state: bucket };
  },
  async handle(_input, _call, bucket) {
    if (bucket.policy === null) throw new AwsError(S3Errors.NoSuchBucketPolicy, 'The bucket policy does not exist');
    const body = Buffer.from(bucket.policy, 'utf8');
    return { headers: { 'content-type': 'application/json' }, body: Readable.from([body]), length: body.length };
  },
});
