import { needs } from '../errors/aws-error.js';
import { KmsErrors } from '../errors/kms.js';
import { KeyRecord, KeyUsage } from '../../store/metadata/types.js';
import { rulesOf } from './key-specs/index.js';
import { Algorithms } from './key-specs/key-spec.js';
import { needsEnabled } from './key-state.js';

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

/** Where a usage's algorithms are listed in a key spec's rules (and in DescribeKey). */
const ALGORITHMS_OF: Readonly<Record<KeyUsage, keyof Algorithms>> = {
  ENCRYPT_DECRYPT: 'EncryptionAlgorithms',
  SIGN_VERIFY: 'SigningAlgorithms',
  GENERATE_VERIFY_MAC: 'MacAlgorithms',
  KEY_AGREEMENT: 'KeyAgreementAlgorithms',
  ENCAPSULATE_DECAPSULATE: 'EncapsulationAlgorithms',
};

/**
 * What every operation with a chosen algorithm (Sign, Verify, GenerateMac, asymmetric Encrypt, DeriveSharedSecret, Encapsulate …)
 * checks first: the key is enabled, of `usage`, and its spec offers `algorithm` — which this server must also
 * implement (`implemented`; otherwise the same InvalidKeyUsageException).
 */
export function needsAlgorithm(key: KeyRecord, usage: KeyUsage, algorithm: string, operation: string, implemented = true): void {
  needsEnabled(key);
  needsUsage(key, usage, operation);
  needs(
    (rulesOf(key).usages[usage]?.[ALGORITHMS_OF[usage]] ?? []).includes(algorithm) && implemented,
    KmsErrors.InvalidKeyUsageException,
    `Algorithm ${algorithm} is incompatible with key spec ${key.keySpec}.`,
  );
}
