import { defineErrors } from './aws-error.js';

/**
 * CloudTrail error catalog: the errors of the botocore model's operations we serve (LookupEvents and the
 * trail operations); all 400, client faults.
 * https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/CommonErrors.html
 */
export const CloudTrailErrors = defineErrors({
  InvalidLookupAttributesException: { status: 400, fault: 'client' },
  InvalidTimeRangeException: { status: 400, fault: 'client' },
  InvalidMaxResultsException: { status: 400, fault: 'client' },
  InvalidNextTokenException: { status: 400, fault: 'client' },
  InvalidEventCategoryException: { status: 400, fault: 'client' },
  TrailNotFoundException: { status: 400, fault: 'client' },
  TrailAlreadyExistsException: { status: 400, fault: 'client' },
  InvalidTrailNameException: { status: 400, fault: 'client' },
  CloudTrailARNInvalidException: { status: 400, fault: 'client' },
  MaximumNumberOfTrailsExceededException: { status: 400, fault: 'client' },
  S3BucketDoesNotExistException: { status: 400, fault: 'client' },
  InsufficientS3BucketPolicyException: { status: 400, fault: 'client' },
  InvalidS3BucketNameException: { status: 400, fault: 'client' },
  InvalidS3PrefixException: { status: 400, fault: 'client' },
  InvalidHomeRegionException: { status: 400, fault: 'client' },
  InvalidEventSelectorsException: { status: 400, fault: 'client' },
  InvalidParameterCombinationException: { status: 400, fault: 'client' },
  InvalidTokenException: { status: 400, fault: 'client' },
  UnsupportedOperationException: { status: 400, fault: 'client' },
  InvalidKmsKeyIdException: { status: 400, fault: 'client' },
  KmsKeyNotFoundException: { status: 400, fault: 'client' },
  InsufficientEncryptionPolicyException: { status: 400, fault: 'client' },
  KmsException: { status: 400, fault: 'client' },
});
