import { AwsError } from '../../../core/errors/aws-error.js';
import { S3Errors } from '../../../core/errors/s3.js';
import { BucketEncryption, BucketRecord } from '../../../store/metadata/s3-types.js';
import { defineOperation } from '../../operation.js';
import { S3Access, S3Call, S3Input } from '../call.js';
import { needBucket, onBucket } from '../resources.js';
import { xmlDocument } from '../xml.js';

/**
 * GET /{Bucket}?encryption. Since January 2023 every bucket has SSE-S3 as its default, and S3 answers an
 * unconfigured bucket with that default; `legacyEncryptionNotFound` restores the older
 * ServerSideEncryptionConfigurationNotFoundError for clients that expect it.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketEncryption.html
 */
export const GetBucketEncryption = defineOperation<S3Call, S3Input, BucketRecord, S3Access>({
  name: 'GetBucketEncryption',
  action: 's3:GetEncryptionConfiguration',
  readOnly: true,
  async resolve(input, call) {
    const bucket = await needBucket(call, input);
    return { access: [onBucket(bucket, 's3:GetEncryptionConfiguration')], state: bucket };
  },
  async handle(_input, call, bucket) {
    if (bucket.encryption === null && call.deps.options.legacyEncryptionNotFound) {
      throw new AwsError(S3Errors.ServerSideEncryptionConfigurationNotFoundError, 'The server side encryption configuration was not found');
    }
    return { xml: encryptionDocument(bucket.encryption ?? { algorithm: 'AES256', bucketKeyEnabled: false, blockedTypes: [] }) };
  },
});

export function encryptionDocument(e: BucketEncryption): string {
  return xmlDocument('ServerSideEncryptionConfiguration', {
    Rule: {
      ApplyServerSideEncryptionByDefault: { SSEAlgorithm: e.algorithm, ...(e.kmsMasterKeyId !== undefined ? { KMSMasterKeyID: e.kmsMasterKeyId } : {}) },
      BucketKeyEnabled: e.bucketKeyEnabled,
      ...(e.blockedTypes.length > 0 ? { BlockedEncryptionTypes: { EncryptionType: [...e.blockedTypes] } } : {}),
    },
  });
}
