import { defineOperation } from '../../operation.js';
import { S3Access, S3Call, S3Input } from '../call.js';
import { needBucket, onBucket } from '../resources.js';
import { BucketRecord } from '../../../store/metadata/s3-types.js';
import { xmlDocument } from '../xml.js';

/** GET /{Bucket}?location: empty for us-east-1, as S3 answers. https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLocation.html */
export const GetBucketLocation = defineOperation<S3Call, S3Input, BucketRecord, S3Access>({
  name: 'GetBucketLocation',
  action: 's3:GetBucketLocation',
  readOnly: true,
  async resolve(input, call) {
    const bucket = await needBucket(call, input);
    return { access: [onBucket(bucket, 's3:GetBucketLocation')], state: bucket };
  },
  async handle(_input, _call, bucket) {
    return { xml: xmlDocument('LocationConstraint', { '#text': bucket.region === 'us-east-1' ? '' : bucket.region }) };
  },
});
