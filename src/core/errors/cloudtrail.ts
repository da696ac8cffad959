import { defineErrors } from './aws-error.js';

/**
 * CloudTrail error catalog (the LookupEvents errors of the botocore model; all 400, client faults).
 * https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html#API_LookupEvents_Errors
 */
export const CloudTrailErrors = defineErrors({
  InvalidLookupAttributesException: { status: 400, fault: 'client' },
  InvalidTimeRangeException: { status: 400, fault: 'client' },
  InvalidMaxResultsException: { status: 400, fault: 'client' },
  InvalidNextTokenException: { status: 400, fault: 'client' },
  InvalidEventCategoryException: { status: 400, fault: 'client' },
});
