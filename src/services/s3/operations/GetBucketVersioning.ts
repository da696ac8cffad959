import { BucketRecord } from '../../../store/metadata/s3-types.js';
import { defineOperation } from '../../operation.js';
import { S3Access, S3Call, S3Input } from '../call.js';
import { needBucket, onBucket } from '../resources.js';
import { xmlDocument } from '../xml.js';

/** GET /{Bucket}?versioning: no Status until versioning was ever set. https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketVersioning.html */
export const GetBucketVersioning = defineOperation<S3Call, S3Input, BucketRecord, S3Access>({
  name: 'GetBucketVersioning',
  action: 's3:GetBucketVersioning',
  readOnly: true,
  async resolve(input, call) {
    const bucket = await needBucket(call, input);
    return { access: [onBucket(bucket, 's3:GetBucketVersioning')], state: bucket };
  },
  async handle(_input, _call, bucket) {
    return { xml: xmlDocument('VersioningConfiguration', bucket.versioning ? { Status: bucket.versioning } : {}) };
  },
});
