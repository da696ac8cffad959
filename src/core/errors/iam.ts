import { defineErrors } from './aws-error.js';

/**
 * IAM error catalog, by wire code. Every entry is the `error.code` of an exception shape of the botocore
 * IAM model with the model's HTTP status (test/unit/query-models.test.ts checks both).
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_Operations.html (each operation's Errors section)
 */
export const IamErrors = defineErrors({
  ConcurrentModification: { status: 409, fault: 'client' },
  DeleteConflict: { status: 409, fault: 'client' },
  EntityAlreadyExists: { status: 409, fault: 'client' },
  InvalidInput: { status: 400, fault: 'client' },
  LimitExceeded: { status: 409, fault: 'client' },
  MalformedPolicyDocument: { status: 400, fault: 'client' },
  NoSuchEntity: { status: 404, fault: 'client' },
  PolicyNotAttachable: { status: 400, fault: 'client' },
  ServiceFailure: { status: 500, fault: 'server', retryable: true },
  UnmodifiableEntity: { status: 400, fault: 'client' },
});
