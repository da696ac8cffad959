import { AwsError, ErrorSpec } from '../errors/aws-error.js';
import { CommonErrors } from '../errors/common.js';
import { SigV4Error, SigV4FailureKind } from './sigv4/verify.js';

/** How JSON-protocol services (KMS, CloudTrail, our own endpoints) name each SigV4 failure. */
const JSON_AUTH_ERRORS: Record<SigV4FailureKind, ErrorSpec> = {
  missing: CommonErrors.MissingAuthenticationTokenException,
  incomplete: CommonErrors.IncompleteSignatureException,
  'unknown-key': CommonErrors.UnrecognizedClientException,
  'inactive-key': CommonErrors.UnrecognizedClientException,
  mismatch: CommonErrors.InvalidSignatureException,
  expired: CommonErrors.InvalidSignatureException,
  scope: CommonErrors.InvalidSignatureException,
  'payload-hash': CommonErrors.InvalidSignatureException,
  'unsigned-headers': CommonErrors.IncompleteSignatureException,
  'expired-token': CommonErrors.ExpiredTokenException,
};

export function jsonAuthError(err: SigV4Error): AwsError {
  return new AwsError(JSON_AUTH_ERRORS[err.kind], err.message);
}
