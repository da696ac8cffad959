/**
 * Which grant operations (the GrantOperation enum of the botocore model) a grant may allow, and which of
 * them grant constraints apply to. Strongroom serves symmetric encryption keys only.
 * https://docs.aws.amazon.com/kms/latest/developerguide/grants.html#terms-grant-operations
 */

/**
 * Grant operations a grant on a symmetric encryption KMS key may list. Grants on such keys "cannot allow the
 * Sign, Verify, or GetPublicKey operations"; GenerateMac/VerifyMac are for HMAC keys and DeriveSharedSecret
 * for ECC key agreement keys, so they are refused as well. GenerateDataKeyPair* use a symmetric key.
 */
export const SYMMETRIC_KEY_GRANT_OPERATIONS: ReadonlySet<string> = new Set([
  'Decrypt',
  'Encrypt',
  'GenerateDataKey',
  'GenerateDataKeyWithoutPlaintext',
  'GenerateDataKeyPair',
  'GenerateDataKeyPairWithoutPlaintext',
  'ReEncryptFrom',
  'ReEncryptTo',
  'CreateGrant',
  'RetireGrant',
  'DescribeKey',
]);

/**
 * The grant operations that take an encryption context: grant constraints apply to these only. "Grants with
 * grant constraints can include the DescribeKey and RetireGrant operations, but the constraint doesn't apply
 * to these operations"; for CreateGrant the constraint bounds the grants it creates instead.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_GrantConstraints.html
 */
export const ENCRYPTION_CONTEXT_OPERATIONS: ReadonlySet<string> = new Set([
  'Decrypt',
  'Encrypt',
  'GenerateDataKey',
  'GenerateDataKeyWithoutPlaintext',
  'GenerateDataKeyPair',
  'GenerateDataKeyPairWithoutPlaintext',
  'ReEncryptFrom',
  'ReEncryptTo',
]);
