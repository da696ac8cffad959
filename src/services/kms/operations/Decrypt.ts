import { Located } from '../../../core/kms/cryptography.js';
import { defineOperation } from '../../operation.js';
import { KmsCall, onKey } from '../call.js';
import { needsCiphertextBlob } from '../ciphertext-input.js';
import { needsNoRecipient, needsSymmetricAlgorithm } from '../symmetric.js';

interface Input {
  CiphertextBlob?: Buffer;
  EncryptionContext?: Record<string, string>;
  KeyId?: string;
  EncryptionAlgorithm?: string;
  Recipient?: unknown;
}

/**
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_Decrypt.html
 * The key comes from the ciphertext; a KeyId, when given, must name that same key (IncorrectKeyException).
 */
export const Decrypt = defineOperation<KmsCall, Input, Located>({
  name: 'Decrypt',
  action: 'kms:Decrypt',
  // CloudTrail marks KMS cryptographic operations read-only (no key or resource changes).
  readOnly: true,
  resolve: async (input, call) => {
    needsSymmetricAlgorithm(input.EncryptionAlgorithm);
    needsNoRecipient(input.Recipient);
    needsCiphertextBlob(input.CiphertextBlob);
    const located = await call.kms.crypto.locate(call.scope, input.CiphertextBlob, input.KeyId);
    return {
      access: [onKey(located.key, 'kms:Decrypt', { encryptionContext: input.EncryptionContext, keyRef: input.KeyId })],
      state: located,
    };
  },
  handle: async (input, call, located) => {
    const { plaintext, materialId } = await call.kms.crypto.decrypt(located, input.EncryptionContext);
    return {
      KeyId: located.key.arn,
      Plaintext: plaintext,
      EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      KeyMaterialId: materialId,
    };
  },
});
