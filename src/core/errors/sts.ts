import { defineErrors } from './aws-error.js';

/**
 * STS error catalog, by wire code: the `error.code` of exception shapes of the botocore STS model with the
 * model's HTTP status (test/unit/query-models.test.ts checks both).
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html#API_AssumeRole_Errors
 */
export const StsErrors = defineErrors({
  MalformedPolicyDocument: { status: 400, fault: 'client' },
  PackedPolicyTooLarge: { status: 400, fault: 'client' },
  RegionDisabledException: { status: 403, fault: 'client' },
});
