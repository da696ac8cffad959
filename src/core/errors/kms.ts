import { defineErrors } from './aws-error.js';

/**
 * KMS error catalog. Every code is an exception shape of the botocore KMS model
 * (test/unit/kms-errors.test.ts checks it); statuses as the KMS API reference lists them:
 * https://docs.aws.amazon.com/kms/latest/APIReference/CommonErrors.html and each operation's Errors section.
 */
export const KmsErrors = defineErrors({
  AlreadyExistsException: { status: 400, fault: 'client' },
  CloudHsmClusterNotFoundException: { status: 400, fault: 'client' },
  CustomKeyStoreHasCMKsException: { status: 400, fault: 'client' },
  CustomKeyStoreInvalidStateException: { status: 400, fault: 'client' },
  CustomKeyStoreNameInUseException: { status: 400, fault: 'client' },
  CustomKeyStoreNotFoundException: { status: 400, fault: 'client' },
  DependencyTimeoutException: { status: 503, fault: 'server', retryable: true },
  DisabledException: { status: 400, fault: 'client' },
  DryRunOperationException: { status: 412, fault: 'client' },
  ExpiredImportTokenException: { status: 400, fault: 'client' },
  IncorrectKeyException: { status: 400, fault: 'client' },
  IncorrectKeyMaterialException: { status: 400, fault: 'client' },
  InvalidAliasNameException: { status: 400, fault: 'client' },
  InvalidArnException: { status: 400, fault: 'client' },
  InvalidCiphertextException: { status: 400, fault: 'client' },
  InvalidGrantIdException: { status: 400, fault: 'client' },
  InvalidGrantTokenException: { status: 400, fault: 'client' },
  InvalidImportTokenException: { status: 400, fault: 'client' },
  InvalidKeyUsageException: { status: 400, fault: 'client' },
  InvalidMarkerException: { status: 400, fault: 'client' },
  KMSInternalException: { status: 500, fault: 'server', retryable: true },
  KMSInvalidMacException: { status: 400, fault: 'client' },
  KMSInvalidSignatureException: { status: 400, fault: 'client' },
  KMSInvalidStateException: { status: 400, fault: 'client' },
  KeyUnavailableException: { status: 500, fault: 'server', retryable: true },
  LimitExceededException: { status: 400, fault: 'client' },
  MalformedPolicyDocumentException: { status: 400, fault: 'client' },
  NotFoundException: { status: 400, fault: 'client' },
  /**
   * Not a shape of the model, but what KMS answers (400, `{"__type":"NotAuthorizedException"}`, no message) to
   * CreateAlias with an `alias/aws/` name, as recorded in moto's tests of the KMS API
   * (tests/test_kms: test__create_alias__raises_if_reserved_alias); Strongroom answers UpdateAlias and
   * DeleteAlias of those aliases the same way (the aliases of AWS managed keys cannot be managed by callers).
   */
  NotAuthorizedException: { status: 400, fault: 'client' },
  TagException: { status: 400, fault: 'client' },
  UnsupportedOperationException: { status: 400, fault: 'client' },
  XksKeyAlreadyInUseException: { status: 400, fault: 'client' },
  XksKeyInvalidConfigurationException: { status: 400, fault: 'client' },
  XksKeyNotFoundException: { status: 400, fault: 'client' },
  XksProxyIncorrectAuthenticationCredentialException: { status: 400, fault: 'client' },
  XksProxyInvalidConfigurationException: { status: 400, fault: 'client' },
  XksProxyInvalidResponseException: { status: 400, fault: 'client' },
  XksProxyUriEndpointInUseException: { status: 400, fault: 'client' },
  XksProxyUriInUseException: { status: 400, fault: 'client' },
  XksProxyUriUnreachableException: { status: 400, fault: 'client' },
  XksProxyVpcEndpointServiceNotFoundException: { status: 400, fault: 'client' },
});
