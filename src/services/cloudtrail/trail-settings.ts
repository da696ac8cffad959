import { needs } from '../../core/errors/aws-error.js';
import { CloudTrailErrors } from '../../core/errors/cloudtrail.js';
import { CloudTrailCall } from './call.js';

/** The settings CreateTrail and UpdateTrail both take (the model's CreateTrailRequest / UpdateTrailRequest members). */
export interface TrailSettingsInput {
  S3BucketName?: string;
  S3KeyPrefix?: string;
  SnsTopicName?: string;
  IncludeGlobalServiceEvents?: boolean;
  IsMultiRegionTrail?: boolean;
  EnableLogFileValidation?: boolean;
  CloudWatchLogsLogGroupArn?: string;
  CloudWatchLogsRoleArn?: string;
  KmsKeyId?: string;
  IsOrganizationTrail?: boolean;
}

/**
 * What we cannot deliver is refused, not ignored: SNS notifications, CloudWatch Logs, organization trails.
 * An empty string is UpdateTrail's way of removing a setting, which is what we have anyway.
 */
export function refuseUnsupported(input: TrailSettingsInput): void {
  for (const [given, what] of [
    [input.SnsTopicName, 'SNS notifications'],
    [input.CloudWatchLogsLogGroupArn || input.CloudWatchLogsRoleArn || undefined, 'CloudWatch Logs delivery'],
    [input.IsOrganizationTrail ? true : undefined, 'Organization trails'],
  ] as const) {
    needs(given === undefined || given === '', CloudTrailErrors.UnsupportedOperationException, `${what} are not supported by this server.`);
  }
}

/** S3's bucket naming rules, as CloudTrail checks them before asking S3. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function checkBucketName(name: string): void {
  needs(BUCKET_NAME.test(name) && !/\.\.|\.-|-\./.test(name), CloudTrailErrors.InvalidS3BucketNameException, `Bucket name is not valid: ${name.slice(0, 64)}`);
}

export function checkPrefix(prefix: string | null): void {
  needs(prefix === null || prefix.length <= 200, CloudTrailErrors.InvalidS3PrefixException, 'S3 key prefix must be at most 200 characters.');
}

/**
 * A multi-Region trail logs the global services' events too: IncludeGlobalServiceEvents false with
 * IsMultiRegionTrail true is refused, by CreateTrail and UpdateTrail alike.
 * https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_UpdateTrail.html#awscloudtrail-UpdateTrail-request-IsMultiRegionTrail
 */
export function checkRegionScope(isMultiRegionTrail: boolean, includeGlobalServiceEvents: boolean): void {
  needs(
    !isMultiRegionTrail || includeGlobalServiceEvents,
    CloudTrailErrors.InvalidParameterCombinationException,
    'Multi-Region trail must include global service events.',
  );
}

/**
 * Before a trail gets (or moves to) a bucket, CloudTrail checks that the bucket exists and that its policy
 * lets cloudtrail.amazonaws.com GetBucketAcl and PutObject under [prefix/]AWSLogs/<account>/.
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html
 */
export async function checkDestination(call: CloudTrailCall, trailArn: string, bucket: string, prefix: string | null): Promise<void> {
  const { accountId } = call.request.principal;
  const verdict = await call.bucketCheck.check({ trailArn, accountId, region: call.request.region, bucket, prefix });
  needs(verdict !== 'NoSuchBucket', CloudTrailErrors.S3BucketDoesNotExistException, `S3 bucket ${bucket} does not exist.`);
  needs(verdict === 'ok', CloudTrailErrors.InsufficientS3BucketPolicyException, `Incorrect S3 bucket policy is detected for bucket: ${bucket}`);
}

/** A KmsKeyId as CloudTrail takes it: a key id (GUID or mrk-), a key ARN, an alias name or an alias ARN. */
const KMS_KEY_REF = /^(alias\/[a-zA-Z0-9/_-]{1,250}|(mrk-)?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}|mrk-[0-9a-f]{32}|arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key\/[A-Za-z0-9-]+|alias\/[a-zA-Z0-9/_-]+))$/;

/**
 * A trail's KMS key, checked as CloudTrail checks it before it takes it: KMS must know the key in the bucket's
 * region and its key policy must let cloudtrail.amazonaws.com GenerateDataKey for this trail. Answers the key's
 * ARN, which the trail keeps (and GetTrail shows as KmsKeyId).
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/encrypting-cloudtrail-log-files-with-aws-kms.html
 */
export async function checkTrailKey(call: CloudTrailCall, trailArn: string, bucket: string, prefix: string | null, keyRef: string): Promise<string> {
  needs(KMS_KEY_REF.test(keyRef), CloudTrailErrors.InvalidKmsKeyIdException, `Invalid KmsKeyId ${keyRef.slice(0, 256)}`);
  const { accountId } = call.request.principal;
  const verdict = await call.bucketCheck.checkKey({ trailArn, accountId, region: call.request.region, bucket, prefix }, keyRef);
  if ('refused' in verdict) {
    needs(verdict.refused !== 'KmsKeyNotFound', CloudTrailErrors.KmsKeyNotFoundException, `KMS key not found: ${verdict.keyArn}`);
    needs(verdict.refused !== 'InsufficientEncryptionPolicy', CloudTrailErrors.InsufficientEncryptionPolicyException, `Insufficient permissions to access S3 bucket ${bucket} or KMS key ${verdict.keyArn}.`);
    needs(false, CloudTrailErrors.KmsException, verdict.message);
  }
  return (verdict as { keyArn: string }).keyArn;
}
