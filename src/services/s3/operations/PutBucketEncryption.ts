import { AwsError, needs } from '../../../core/errors/aws-error.js';
import { S3Errors } from '../../../core/errors/s3.js';
import { BucketEncryption, BucketRecord } from '../../../store/metadata/s3-types.js';
import { defineOperation } from '../../operation.js';
import { S3Access, S3Call, S3Input } from '../call.js';
import { needBucket, onBucket } from '../resources.js';
import { malformed, parseXmlDocument } from '../xml.js';

/**
 * PUT /{Bucket}?encryption: the bucket's default encryption (one Rule). BucketKeyEnabled applies to
 * SSE-KMS; BlockedEncryptionTypes blocks SSE-C uploads.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketEncryption.html
 */
export const PutBucketEncryption = defineOperation<S3Call, S3Input, { bucket: BucketRecord; encryption: BucketEncryption }, S3Access>({
  name: 'PutBucketEncryption',
  action: 's3:PutEncryptionConfiguration',
  readOnly: false,
  async resolve(input, call) {
    const bucket = await needBucket(call, input);
    const encryption = parseEncryption(await input.body.bytes(64 * 1024));
    return { access: [onBucket(bucket, 's3:PutEncryptionConfiguration')], state: { bucket, encryption } };
  },
  async handle(_input, call, { bucket, encryption }) {
    await call.deps.store.updateBucket(bucket.name, { encryption });
    return {};
  },
});

function parseEncryption(body: Buffer): BucketEncryption {
  const doc = parseXmlDocument(body, 'ServerSideEncryptionConfiguration');
  const rules = doc.Rule;
  if (!Array.isArray(rules) || rules.length !== 1) throw malformed();
  const rule = rules[0] as Record<string, unknown>;
  const def = rule.ApplyServerSideEncryptionByDefault as Record<string, unknown> | undefined;
  if (def !== undefined && (typeof def !== 'object' || def === null)) throw malformed();
  const algorithm = def?.SSEAlgorithm ?? 'AES256';
  needs(algorithm === 'AES256' || algorithm === 'aws:kms' || algorithm === 'aws:kms:dsse', S3Errors.MalformedXML, 'The XML you provided was not well-formed or did not validate against our published schema');
  const keyId = def?.KMSMasterKeyID;
  if (keyId !== undefined) {
    needs(typeof keyId === 'string' && keyId !== '', S3Errors.MalformedXML, 'The XML you provided was not well-formed or did not validate against our published schema');
    if (algorithm === 'AES256') throw new AwsError(S3Errors.InvalidArgument, 'a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse');
  }
  const bucketKey = rule.BucketKeyEnabled;
  needs(bucketKey === undefined || bucketKey === 'true' || bucketKey === 'false', S3Errors.MalformedXML, 'The XML you provided was not well-formed or did not validate against our published schema');
  const blocked = (rule.BlockedEncryptionTypes as Record<string, unknown> | undefined)?.EncryptionType;
  const blockedTypes = (Array.isArray(blocked) ? blocked : []) as string[];
  needs(blockedTypes.every((t) => t === 'NONE' || t === 'SSE-C'), S3Errors.MalformedXML, 'The XML you provided was not well-formed or did not validate against our published schema');
  return {
    algorithm,
    ...(typeof keyId === 'string' ? { kmsMasterKeyId: keyId } : {}),
    bucketKeyEnabled: bucketKey === 'true',
    blockedTypes: blockedTypes.filter((t): t is 'SSE-C' => t === 'SSE-C'),
  };
}
