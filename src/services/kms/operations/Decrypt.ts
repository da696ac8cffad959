import { AwsError } from '../../../core/errors/aws-error.js';
import { CommonErrors } from '../../../core/errors/common.js';
import { Located } from '../../../core/kms/cryptography.js';
import { KeyRecord } from '../../../store/metadata/types.js';
import { onKey, defineKmsOperation } from '../call.js';
import { needsCiphertextBlob } from '../ciphertext-input.js';
import { needsNoRecipient, needsSymmetricAlgorithm } from '../symmetric.js';
import { xksCaller } from '../custom-key-store-call.js';

interface Input {
  CiphertextBlob?: Buffer;
  EncryptionContext?: Record<string, string>;
  KeyId?: string;
  EncryptionAlgorithm?: string;
  Recipient?: unknown;
}

type State = { readonly symmetric: Located } | { readonly asymmetric: KeyRecord; readonly ciphertext: Buffer; readonly algorithm: string };

/**
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_Decrypt.html
 * Symmetric: the key comes from the ciphertext; a KeyId, when given, must name that same key
 * (IncorrectKeyException). Asymmetric (an EncryptionAlgorithm other than SYMMETRIC_DEFAULT): the bare
 * RSAES-OAEP ciphertext names no key, so KeyId is required, as AWS requires it.
 */
export const Decrypt = defineKmsOperation<Input, State>({
  name: 'Decrypt',
  action: 'kms:Decrypt',
  crossAccount: true,
  // CloudTrail marks KMS cryptographic operations read-only (no key or resource changes).
  readOnly: true,
  resolve: async (input, call) => {
    needsNoRecipient(input.Recipient);
    needsCiphertextBlob(input.CiphertextBlob);
    const algorithm = input.EncryptionAlgorithm;
    if (algorithm !== undefined && algorithm !== 'SYMMETRIC_DEFAULT') {
      if (input.KeyId === undefined) {
        throw new AwsError(CommonErrors.ValidationException, `KeyId is required to decrypt with the asymmetric encryption algorithm ${algorithm}.`);
      }
      const key = await call.kms.resolver.resolve(call.scope, input.KeyId, { aliases: true });
      if (key.keySpec === 'SYMMETRIC_DEFAULT') needsSymmetricAlgorithm(algorithm);
      return {
        access: [onKey(key, 'kms:Decrypt', { encryptionContext: input.EncryptionContext, keyRef: input.KeyId, conditions: { 'kms:EncryptionAlgorithm': algorithm } })],
        state: { asymmetric: key, ciphertext: input.CiphertextBlob, algorithm },
      };
    }
    const located = await call.kms.crypto.locate(call.scope, input.CiphertextBlob, input.KeyId);
    return {
      access: [onKey(located.key, 'kms:Decrypt', { encryptionContext: input.EncryptionContext, keyRef: input.KeyId })],
      state: { symmetric: located },
    };
  },
  handle: async (input, call, state) => {
    if ('asymmetric' in state) {
      const plaintext = await call.kms.asymmetric.decrypt(state.asymmetric, state.algorithm, state.ciphertext, input.EncryptionContext);
      return { KeyId: state.asymmetric.arn, Plaintext: plaintext, EncryptionAlgorithm: state.algorithm };
    }
    const { plaintext, materialId } = await call.kms.crypto.decrypt(state.symmetric, input.EncryptionContext, xksCaller(call, 'Decrypt'));
    return {
      KeyId: state.symmetric.key.arn,
      Plaintext: plaintext,
      EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      KeyMaterialId: materialId,
    };
  },
});
