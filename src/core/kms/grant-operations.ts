import { KeyRecord, KeyUsage } from '../../store/metadata/types.js';

/**
 * Which grant operations (the GrantOperation enum of the botocore model) a grant may allow, and which of
 * them grant constraints apply to, for each kind of key.
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

const COMMON = ['CreateGrant', 'RetireGrant', 'DescribeKey'];

/**
 * The grant operations a grant may allow on a key of each kind: "The grant operations must be valid for the
 * key spec and key usage of the KMS key" — asymmetric encryption keys: Encrypt, Decrypt, ReEncrypt*,
 * GetPublicKey; signing keys: Sign, Verify, GetPublicKey; HMAC keys: GenerateMac, VerifyMac; key agreement
 * keys: DeriveSharedSecret, GetPublicKey; ML-KEM keys: Encapsulate, Decapsulate, GetPublicKey; each with CreateGrant, RetireGrant and DescribeKey.
 * https://docs.aws.amazon.com/kms/latest/developerguide/grants.html#terms-grant-operations
 */
const ASYMMETRIC_GRANT_OPERATIONS: Readonly<Record<KeyUsage, ReadonlySet<string>>> = {
  ENCRYPT_DECRYPT: new Set(['Decrypt', 'Encrypt', 'ReEncryptFrom', 'ReEncryptTo', 'GetPublicKey', ...COMMON]),
  SIGN_VERIFY: new Set(['Sign', 'Verify', 'GetPublicKey', ...COMMON]),
  GENERATE_VERIFY_MAC: new Set(['GenerateMac', 'VerifyMac', ...COMMON]),
  KEY_AGREEMENT: new Set(['DeriveSharedSecret', 'GetPublicKey', ...COMMON]),
  ENCAPSULATE_DECAPSULATE: new Set(['Encapsulate', 'Decapsulate', 'GetPublicKey', ...COMMON]),
};

export function grantOperationsFor(key: Pick<KeyRecord, 'keySpec' | 'keyUsage'>): ReadonlySet<string> {
  return key.keySpec === 'SYMMETRIC_DEFAULT' ? SYMMETRIC_KEY_GRANT_OPERATIONS : ASYMMETRIC_GRANT_OPERATIONS[key.keyUsage];
}

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
