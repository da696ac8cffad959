import { AwsError, ErrorSpec, defineErrors } from './aws-error.js';

/**
 * The EBS direct APIs' errors, with the HTTP statuses of botocore's model (data/ebs/2019-11-02): REST-JSON
 * bodies `{"Message": …, "Reason": …}` with the code in `x-amzn-ErrorType`.
 * https://docs.aws.amazon.com/ebs/latest/APIReference/API_Operations.html
 */
export const EbsErrors = defineErrors({
  AccessDeniedException: { status: 403, fault: 'client' },
  ConcurrentLimitExceededException: { status: 400, fault: 'client' },
  ConflictException: { status: 409, fault: 'client' },
  InternalServerException: { status: 500, fault: 'server', retryable: true },
  RequestThrottledException: { status: 400, fault: 'client', retryable: true },
  ResourceNotFoundException: { status: 404, fault: 'client' },
  ServiceQuotaExceededException: { status: 402, fault: 'client' },
  ValidationException: { status: 400, fault: 'client' },
});

/** The `Reason` enums of the model's exceptions. */
export type EbsReason =
  | 'UNAUTHORIZED_ACCOUNT' | 'DEPENDENCY_ACCESS_DENIED'
  | 'SNAPSHOT_NOT_FOUND' | 'GRANT_NOT_FOUND' | 'DEPENDENCY_RESOURCE_NOT_FOUND'
  | 'ACCOUNT_THROTTLED' | 'DEPENDENCY_REQUEST_THROTTLED' | 'RESOURCE_LEVEL_THROTTLE'
  | 'DEPENDENCY_SERVICE_QUOTA_EXCEEDED'
  | 'INVALID_CUSTOMER_KEY' | 'INVALID_PAGE_TOKEN' | 'INVALID_BLOCK_TOKEN' | 'INVALID_SNAPSHOT_ID' | 'UNRELATED_SNAPSHOTS'
  | 'INVALID_BLOCK' | 'INVALID_CONTENT_ENCODING' | 'INVALID_TAG' | 'INVALID_DEPENDENCY_REQUEST' | 'INVALID_PARAMETER_VALUE'
  | 'INVALID_VOLUME_SIZE' | 'CONFLICTING_BLOCK_UPDATE' | 'WRITE_REQUEST_TIMEOUT';

/** An EBS error with its `Reason` (the REST-JSON body carries it beside Message). */
export class EbsError extends AwsError {
  constructor(
    spec: ErrorSpec,
    message: string,
    readonly reason?: EbsReason,
  ) {
    super(spec, message);
  }
}

export const ebsError = (code: keyof typeof EbsErrors, message: string, reason?: EbsReason) => new EbsError(EbsErrors[code], message, reason);
