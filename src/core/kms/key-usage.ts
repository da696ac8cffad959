import { needs } from '../errors/aws-error.js';
import { KmsErrors } from '../errors/kms.js';
import { KeyRecord, KeyUsage } from '../../store/metadata/types.js';

/**
 * InvalidKeyUsageException, in AWS's words, when an operation meets a key of another usage or spec: "The
 * KeyUsage value of the KMS key is incompatible with the API operation" / "the encryption algorithm or
 * signing algorithm specified for the operation is incompatible with the type of key material in the KMS key".
 */
export function needsUsage(key: KeyRecord, usage: KeyUsage, operation: string): void {
  needs(
    key.keyUsage === usage,
    KmsErrors.InvalidKeyUsageException,
    `${key.arn} key usage is ${key.keyUsage} which is not valid for ${operation}.`,
  );
}

/** Operations that use the key's AES-GCM material (Encrypt, GenerateDataKey*, ReEncrypt's destination, …). */
export function needsSymmetricEncryptionKey(key: KeyRecord, operation: string): void {
  needsUsage(key, 'ENCRYPT_DECRYPT', operation);
  needs(
    key.keySpec === 'SYMMETRIC_DEFAULT',
    KmsErrors.InvalidKeyUsageException,
    `Algorithm SYMMETRIC_DEFAULT is incompatible with key spec ${key.keySpec}.`,
  );
}
