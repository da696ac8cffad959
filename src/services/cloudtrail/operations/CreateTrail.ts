import { checkTrailName, MAX_TRAILS_PER_REGION, trailArn } from '../../../core/audit/trails.js';
import { needs } from '../../../core/errors/aws-error.js';
import { CloudTrailErrors } from '../../../core/errors/cloudtrail.js';
import { defineOperation } from '../../operation.js';
import { CloudTrailCall } from '../call.js';
import { trailAccess, trailView } from '../trail-view.js';

/**
 * CreateTrail: a trail in the request's region (its home region), not logging until StartLogging.
 * What we cannot deliver yet is refused, not ignored: SNS notifications, CloudWatch Logs, SSE-KMS of log
 * files, organization trails, tags.
 * https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_CreateTrail.html
 */
interface Input {
  Name: string;
  S3BucketName: string;
  S3KeyPrefix?: string;
  SnsTopicName?: string;
  IncludeGlobalServiceEvents?: boolean;
  IsMultiRegionTrail?: boolean;
  EnableLogFileValidation?: boolean;
  CloudWatchLogsLogGroupArn?: string;
  CloudWatchLogsRoleArn?: string;
  KmsKeyId?: string;
  IsOrganizationTrail?: boolean;
  TagsList?: unknown[];
}

/** S3's bucket naming rules, as CloudTrail checks them before asking S3. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export const CreateTrail = defineOperation<CloudTrailCall, Input, string>({
  name: 'CreateTrail',
  action: 'cloudtrail:CreateTrail',
  readOnly: false,
  resolve: async (input, call) => {
    checkTrailName(input.Name);
    const arn = trailArn(call.request.principal.accountId, call.request.region, input.Name);
    return { access: [trailAccess('CreateTrail', arn)], state: arn };
  },
  handle: async (input, call, arn) => {
    const { accountId } = call.request.principal;
    const region = call.request.region;
    for (const [given, what] of [
      [input.SnsTopicName, 'SNS notifications'],
      [input.CloudWatchLogsLogGroupArn ?? input.CloudWatchLogsRoleArn, 'CloudWatch Logs delivery'],
      [input.KmsKeyId, 'SSE-KMS encryption of log files'],
      [input.IsOrganizationTrail ? true : undefined, 'Organization trails'],
      [input.TagsList && input.TagsList.length > 0 ? true : undefined, 'Trail tags'],
    ] as const) {
      needs(given === undefined, CloudTrailErrors.UnsupportedOperationException, `${what} are not supported by this server.`);
    }
    needs(BUCKET_NAME.test(input.S3BucketName) && !/\.\.|\.-|-\./.test(input.S3BucketName), CloudTrailErrors.InvalidS3BucketNameException, `Bucket name is not valid: ${input.S3BucketName.slice(0, 64)}`);
    needs(input.S3KeyPrefix === undefined || input.S3KeyPrefix.length <= 200, CloudTrailErrors.InvalidS3PrefixException, 'S3 key prefix must be at most 200 characters.');
    // CloudTrail checks, before creating the trail, that the bucket exists and that its policy lets
    // cloudtrail.amazonaws.com GetBucketAcl and PutObject under [prefix/]AWSLogs/<account>/.
    const verdict = await call.bucketCheck.check({ trailArn: arn, accountId, region, bucket: input.S3BucketName, prefix: input.S3KeyPrefix ?? null });
    needs(verdict !== 'NoSuchBucket', CloudTrailErrors.S3BucketDoesNotExistException, `S3 bucket ${input.S3BucketName} does not exist.`);
    needs(verdict === 'ok', CloudTrailErrors.InsufficientS3BucketPolicyException, `Incorrect S3 bucket policy is detected for bucket: ${input.S3BucketName}`);
    needs(
      call.trails.listTrails(accountId, region).filter((t) => t.region === region).length < MAX_TRAILS_PER_REGION,
      CloudTrailErrors.MaximumNumberOfTrailsExceededException,
      `User: ${accountId} already has ${MAX_TRAILS_PER_REGION} trails in ${region}.`,
    );
    const trail = {
      accountId,
      region,
      name: input.Name,
      arn,
      s3BucketName: input.S3BucketName,
      s3KeyPrefix: input.S3KeyPrefix ?? null,
      snsTopicName: null,
      includeGlobalServiceEvents: input.IncludeGlobalServiceEvents ?? true,
      isMultiRegionTrail: input.IsMultiRegionTrail ?? false,
      logFileValidationEnabled: input.EnableLogFileValidation ?? false,
      cloudWatchLogsLogGroupArn: null,
      cloudWatchLogsRoleArn: null,
      kmsKeyId: null,
      eventSelectors: null,
      advancedEventSelectors: null,
      isLogging: false,
      startLoggingTime: null,
      stopLoggingTime: null,
      createdAt: call.clock.now(),
    };
    needs(
      // A multi-region trail of that name homed elsewhere is also seen here.
      !call.trails.listTrails(accountId, region).some((t) => t.name === input.Name),
      CloudTrailErrors.TrailAlreadyExistsException,
      `Trail ${input.Name} already exists for customer: ${accountId}`,
    );
    needs(call.trails.createTrail(trail), CloudTrailErrors.TrailAlreadyExistsException, `Trail ${input.Name} already exists for customer: ${accountId}`);
    const { HasCustomEventSelectors: _h, HasInsightSelectors: _i, HomeRegion: _r, ...shown } = trailView(trail);
    return shown;
  },
});
