import { defineErrors } from './aws-error.js';

/**
 * Errors every AWS service shares (authentication, serialization, validation, throttling).
 * Codes and statuses as AWS JSON 1.1 services answer them:
 * https://docs.aws.amazon.com/kms/latest/APIReference/CommonErrors.html
 */
export const CommonErrors = defineErrors({
  AccessDeniedException: { status: 400, fault: 'client' },
  IncompleteSignatureException: { status: 400, fault: 'client' },
  InvalidSignatureException: { status: 400, fault: 'client' },
  MissingAuthenticationTokenException: { status: 400, fault: 'client' },
  UnrecognizedClientException: { status: 400, fault: 'client' },
  InvalidClientTokenId: { status: 403, fault: 'client' },
  ExpiredTokenException: { status: 400, fault: 'client' },
  SerializationException: { status: 400, fault: 'client' },
  UnknownOperationException: { status: 400, fault: 'client' },
  ValidationException: { status: 400, fault: 'client' },
  RequestEntityTooLargeException: { status: 413, fault: 'client' },
  ThrottlingException: { status: 400, fault: 'client', retryable: true },
  InternalFailure: { status: 500, fault: 'server', retryable: true },
  ServiceUnavailable: { status: 503, fault: 'server', retryable: true },
});
