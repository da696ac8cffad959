import { defineErrors } from './aws-error.js';

/**
 * Errors every AWS Query service (IAM, STS) shares: authentication, unknown actions, validation,
 * throttling. Wire codes and HTTP statuses as IAM and STS answer them:
 * https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html
 * https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html
 * (The Query flavour differs from AWS JSON: `ValidationError`, not `ValidationException`; authentication
 * failures are 403s.) ExpiredToken is a 403 as IAM and STS answer it on the wire
 * (`403 Forbidden … <Code>ExpiredToken</Code>`), not the 400 of AWS JSON's ExpiredTokenException.
 */
export const QueryErrors = defineErrors({
  AccessDenied: { status: 403, fault: 'client' },
  ExpiredToken: { status: 403, fault: 'client' },
  IncompleteSignature: { status: 400, fault: 'client' },
  InternalFailure: { status: 500, fault: 'server', retryable: true },
  InvalidAction: { status: 400, fault: 'client' },
  InvalidClientTokenId: { status: 403, fault: 'client' },
  MalformedQueryString: { status: 400, fault: 'client' },
  MissingAuthenticationToken: { status: 403, fault: 'client' },
  RequestEntityTooLarge: { status: 413, fault: 'client' },
  SignatureDoesNotMatch: { status: 403, fault: 'client' },
  /** The service cannot answer now (Strongroom: sealed, README "Sealed start"): the SDKs retry 503s. */
  ServiceUnavailable: { status: 503, fault: 'server', retryable: true },
  Throttling: { status: 400, fault: 'client', retryable: true },
  ValidationError: { status: 400, fault: 'client' },
});
