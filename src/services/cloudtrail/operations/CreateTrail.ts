import { checkTrailName, MAX_TRAILS_PER_REGION, trailArn } from '../../../core/audit/trails.js';
import { needs } from '../../../core/errors/aws-error.js';
import { CloudTrailErrors } from '../../../core/errors/cloudtrail.js';
import { TrailRecord } from '../../../store/metadata/trail-types.js';
import { defineOperation } from '../../operation.js';
import { CloudTrailCall } from '../call.js';
import { TrailSettingsInput, checkBucketName, checkDestination, checkPrefix, checkRegionScope, checkTrailKey, refuseUnsupported } from '../trail-settings.js';
import { trailAccess, trailSettingsView } from '../trail-view.js';

/**
 * CreateTrail: a trail in the request's region (its home region), not logging until StartLogging.
 * What we cannot deliver is refused, not ignored (trail-settings.ts), and tags. A KmsKeyId is checked
 * (checkTrailKey) and kept as the key's ARN: the trail's log files are then SSE-KMS under it.
 * https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_CreateTrail.html
 */
interface Input extends TrailSettingsInput {
  Name: string;
  S3BucketName: string;
  TagsList?: unknown[];
}

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
    refuseUnsupported(input);
    needs(!input.TagsList || input.TagsList.length === 0, CloudTrailErrors.UnsupportedOperationException, 'Trail tags are not supported by this server.');
    checkBucketName(input.S3BucketName);
    const prefix = input.S3KeyPrefix || null;
    checkPrefix(prefix);
    const includeGlobalServiceEvents = input.IncludeGlobalServiceEvents ?? true;
    const isMultiRegionTrail = input.IsMultiRegionTrail ?? false;
    checkRegionScope(isMultiRegionTrail, includeGlobalServiceEvents);
    await checkDestination(call, arn, input.S3BucketName, prefix);
    needs(
      (await call.trails.listTrails(accountId, region)).filter((t) => t.region === region).length < MAX_TRAILS_PER_REGION,
      CloudTrailErrors.MaximumNumberOfTrailsExceededException,
      `User: ${accountId} already has ${MAX_TRAILS_PER_REGION} trails in ${region}.`,
    );
    needs(
      // A multi-region trail of that name homed elsewhere is also seen here.
      !(await call.trails.listTrails(accountId, region)).some((t) => t.name === input.Name),
      CloudTrailErrors.TrailAlreadyExistsException,
      `Trail ${input.Name} already exists for customer: ${accountId}`,
    );
    // Last: the key check asks KMS for a data key (and is recorded in the key owner's account).
    const kmsKeyId = input.KmsKeyId ? await checkTrailKey(call, arn, input.S3BucketName, prefix, input.KmsKeyId) : null;
    const trail: TrailRecord = {
      accountId,
      region,
      name: input.Name,
      arn,
      s3BucketName: input.S3BucketName,
      s3KeyPrefix: prefix,
      snsTopicName: null,
      includeGlobalServiceEvents,
      isMultiRegionTrail,
      logFileValidationEnabled: input.EnableLogFileValidation ?? false,
      cloudWatchLogsLogGroupArn: null,
      cloudWatchLogsRoleArn: null,
      kmsKeyId,
      eventSelectors: null,
      advancedEventSelectors: null,
      isLogging: false,
      startLoggingTime: null,
      stopLoggingTime: null,
      createdAt: call.clock.now(),
    };
    needs(await call.trails.createTrail(trail), CloudTrailErrors.TrailAlreadyExistsException, `Trail ${input.Name} already exists for customer: ${accountId}`);
    return trailSettingsView(trail);
  },
});
