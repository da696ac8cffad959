import { keyOperation } from '../call.js';
import { dataKeyBytes } from '../data-key-size.js';
import { xksCaller } from '../custom-key-store-call.js';

interface Input {
  KeyId: string;
  KeySpec?: string;
  NumberOfBytes?: number;
  EncryptionContext?: Record<string, string>;
}

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateDataKeyWithoutPlaintext.html */
export const GenerateDataKeyWithoutPlaintext = keyOperation<Input>({
  name: 'GenerateDataKeyWithoutPlaintext',
  action: 'kms:GenerateDataKeyWithoutPlaintext',
  crossAccount: true,
  // CloudTrail marks KMS cryptographic operations read-only (no key or resource changes).
  readOnly: true,
  aliases: true,
  handle: async (input, call, key) => {
    const dk = await call.kms.crypto.generateDataKey(key, dataKeyBytes(input), input.EncryptionContext, 'GenerateDataKeyWithoutPlaintext', xksCaller(call, 'GenerateDataKeyWithoutPlaintext'));
    dk.plaintext.wipe();
    return { CiphertextBlob: dk.ciphertextBlob, KeyId: key.arn, KeyMaterialId: dk.materialId };
  },
});
