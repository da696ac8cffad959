import { needs } from '../../../core/errors/aws-error.js';
import { S3Errors } from '../../../core/errors/s3.js';
import { BucketRecord, VersioningStatus } from '../../../store/metadata/s3-types.js';
import { defineOperation } from '../../operation.js';
import { S3Access, S3Call, S3Input } from '../call.js';
import { needBucket, onBucket } from '../resources.js';
import { parseXmlDocument } from '../xml.js';

/**
 * PUT /{Bucket}?versioning: Enabled or Suspended (a bucket never returns to unversioned).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketVersioning.html
 */
export const PutBucketVersioning = defineOperation<S3Call, S3Input, { bucket: BucketRecord; status: VersioningStatus | undefined }, S3Access>({
  name: 'PutBucketVersioning',
  action: 's3:PutBucketVersioning',
  readOnly: false,
  async resolve(input, call) {
    const bucket = await needBucket(call, input);
    const doc = parseXmlDocument(await input.body.bytes(64 * 1024), 'VersioningConfiguration');
    const status = doc.Status;
    needs(status === undefined || status === 'Enabled' || status === 'Suspended', S3Errors.MalformedXML, 'The XML you provided was not well-formed or did not validate against our published schema');
    return { access: [onBucket(bucket, 's3:PutBucketVersioning')], state: { bucket, status } };
  },
  async handle(_input, call, { bucket, status }) {
    if (status !== undefined) await call.deps.store.updateBucket(bucket.name, { versioning: status });
    return {};
  },
});
