import { defineErrors } from './aws-error.js';

/**
 * S3 error catalog: the `<Code>` of S3's XML error and its HTTP status, as listed in
 * https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList
 * (the botocore S3 model declares only a few of them as shapes; S3 answers many more).
 * KMS failures met while encrypting or decrypting are answered with KMS's code prefixed `KMS.`
 * (e.g. `KMS.NotFoundException`, 400), as S3 does; see kmsFailure in src/services/s3/kms-errors.ts.
 */
export const S3Errors = defineErrors({
  AccessDenied: { status: 403, fault: 'client' },
  AuthorizationHeaderMalformed: { status: 400, fault: 'client' },
  AuthorizationQueryParametersError: { status: 400, fault: 'client' },
  BadDigest: { status: 400, fault: 'client' },
  BucketAlreadyExists: { status: 409, fault: 'client' },
  BucketAlreadyOwnedByYou: { status: 409, fault: 'client' },
  BucketNotEmpty: { status: 409, fault: 'client' },
  EntityTooLarge: { status: 400, fault: 'client' },
  EntityTooSmall: { status: 400, fault: 'client' },
  ExpiredToken: { status: 400, fault: 'client' },
  IllegalLocationConstraintException: { status: 400, fault: 'client' },
  IncompleteBody: { status: 400, fault: 'client' },
  RequestTimeout: { status: 400, fault: 'client' },
  InternalError: { status: 500, fault: 'server', retryable: true },
  /** 'Reduce your request rate' / unavailable (Strongroom: sealed); the SDKs retry 503s. */
  ServiceUnavailable: { status: 503, fault: 'server', retryable: true },
  InvalidAccessKeyId: { status: 403, fault: 'client' },
  InvalidArgument: { status: 400, fault: 'client' },
  InvalidBucketName: { status: 400, fault: 'client' },
  InvalidDigest: { status: 400, fault: 'client' },
  InvalidEncryptionAlgorithmError: { status: 400, fault: 'client' },
  InvalidLocationConstraint: { status: 400, fault: 'client' },
  InvalidPart: { status: 400, fault: 'client' },
  InvalidPolicyDocument: { status: 400, fault: 'client' },
  InvalidPartOrder: { status: 400, fault: 'client' },
  InvalidPartNumber: { status: 416, fault: 'client' },
  InvalidRange: { status: 416, fault: 'client' },
  InvalidRequest: { status: 400, fault: 'client' },
  InvalidToken: { status: 400, fault: 'client' },
  KeyTooLongError: { status: 400, fault: 'client' },
  MalformedPolicy: { status: 400, fault: 'client' },
  MalformedPOSTRequest: { status: 400, fault: 'client' },
  MalformedXML: { status: 400, fault: 'client' },
  MaxMessageLengthExceeded: { status: 400, fault: 'client' },
  MetadataTooLarge: { status: 400, fault: 'client' },
  MethodNotAllowed: { status: 405, fault: 'client' },
  MissingContentLength: { status: 411, fault: 'client' },
  MissingSecurityHeader: { status: 400, fault: 'client' },
  NoSuchBucket: { status: 404, fault: 'client' },
  NoSuchBucketPolicy: { status: 404, fault: 'client' },
  NoSuchKey: { status: 404, fault: 'client' },
  NoSuchUpload: { status: 404, fault: 'client' },
  NoSuchVersion: { status: 404, fault: 'client' },
  NotImplemented: { status: 501, fault: 'server' },
  NotModified: { status: 304, fault: 'client' },
  PermanentRedirect: { status: 301, fault: 'client' },
  PreconditionFailed: { status: 412, fault: 'client' },
  RequestTimeTooSkewed: { status: 403, fault: 'client' },
  ServerSideEncryptionConfigurationNotFoundError: { status: 404, fault: 'client' },
  SignatureDoesNotMatch: { status: 403, fault: 'client' },
  TooManyParts: { status: 400, fault: 'client' },
  UnexpectedContent: { status: 400, fault: 'client' },
  XAmzContentSHA256Mismatch: { status: 400, fault: 'client' },
});
