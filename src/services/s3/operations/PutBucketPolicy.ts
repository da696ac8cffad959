import { AwsError } from '../../../core/errors/aws-error.js';
import { S3Errors } from '../../../core/errors/s3.js';
import { PolicyError, parsePolicy } from '../../../core/policy/index.js';
import { BucketRecord } from '../../../store/metadata/s3-types.js';
import { defineOperation } from '../../operation.js';
import { S3Access, S3Call, S3Input } from '../call.js';
import { needBucket, onBucket } from '../resources.js';
import { strictUtf8 } from '../xml.js';

/** Bucket policies are at most 20 KB. https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-policies.html */
const MAX_POLICY_BYTES = 20 * 1024;

/** PUT /{Bucket}?policy: https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketPolicy.html */
export const PutBucketPolicy = defineOperation<S3Call, S3Input, { bucket: BucketRecord; policy: string }, S3Access>({
  name: 'PutBucketPolicy',
  action: 's3:PutBucketPolicy',
  readOnly: false,
  async resolve(input, call) {
    const bucket = await needBucket(call, input);
    const body = await input.body.bytes(MAX_POLICY_BYTES + 1);
    if (body.length > MAX_POLICY_BYTES) throw new AwsError(S3Errors.MalformedPolicy, 'Policies must be no more than 20 KB');
    let policy: string;
    try {
      // Invalid UTF-8 is refused, not replaced: the stored policy is exactly what was sent.
      policy = strictUtf8.decode(body);
    } catch {
      throw new AwsError(S3Errors.MalformedPolicy, 'The policy is not valid UTF-8');
    }
    try {
      parsePolicy(policy, 'resource');
    } catch (err) {
      if (err instanceof PolicyError) throw new AwsError(S3Errors.MalformedPolicy, err.message);
      throw err;
    }
    return { access: [onBucket(bucket, 's3:PutBucketPolicy')], state: { bucket, policy } };
  },
  async handle(_input, call, { bucket, policy }) {
    await call.deps.store.updateBucket(bucket.name, { policy });
    return { status: 204 };
  },
});
