import { SecretBytes } from '../../../core/crypto/secret-bytes.js';
import { keyOperation } from '../call.js';
import { needsSymmetricAlgorithm } from '../symmetric.js';
import { xksCaller } from '../custom-key-store-call.js';

interface Input {
  KeyId: string;
  Plaintext: SecretBytes;
  EncryptionContext?: Record<string, string>;
  EncryptionAlgorithm?: string;
}

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_Encrypt.html — plaintext 1–4096 bytes (model). */
export const Encrypt = keyOperation<Input>({
  name: 'Encrypt',
  action: 'kms:Encrypt',
  crossAccount: true,
  // CloudTrail marks KMS cryptographic operations read-only (no key or resource changes).
  readOnly: true,
  aliases: true,
  conditions: (input) => ({ 'kms:EncryptionAlgorithm': input.EncryptionAlgorithm ?? 'SYMMETRIC_DEFAULT' }),
  handle: async (input, call, key) => {
    // An asymmetric algorithm on a key that is not symmetric: RSAES-OAEP with the key's public key.
    if (key.keySpec !== 'SYMMETRIC_DEFAULT' && input.EncryptionAlgorithm !== undefined && input.EncryptionAlgorithm !== 'SYMMETRIC_DEFAULT') {
      return {
        CiphertextBlob: await call.kms.asymmetric.encrypt(key, input.EncryptionAlgorithm, input.Plaintext, input.EncryptionContext),
        KeyId: key.arn,
        EncryptionAlgorithm: input.EncryptionAlgorithm,
      };
    }
    needsSymmetricAlgorithm(input.EncryptionAlgorithm);
    const sealed = await call.kms.crypto.encrypt(key, input.Plaintext, input.EncryptionContext, 'Encrypt', xksCaller(call, 'Encrypt'));
    return {
      CiphertextBlob: sealed.ciphertextBlob,
      KeyId: key.arn,
      EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
    };
  },
});
