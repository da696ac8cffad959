import { keyOperation } from '../call.js';
import { dataKeyBytes } from '../data-key-size.js';
import { needsNoRecipient } from '../symmetric.js';
import { xksCaller } from '../custom-key-store-call.js';

interface Input {
  KeyId: string;
  KeySpec?: string;
  NumberOfBytes?: number;
  EncryptionContext?: Record<string, string>;
  Recipient?: unknown;
}

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateDataKey.html */
export const GenerateDataKey = keyOperation<Input>({
  name: 'GenerateDataKey',
  action: 'kms:GenerateDataKey',
  crossAccount: true,
  // CloudTrail marks KMS cryptographic operations read-only (no key or resource changes).
  readOnly: true,
  aliases: true,
  handle: async (input, call, key) => {
    needsNoRecipient(input.Recipient);
    const dk = await call.kms.crypto.generateDataKey(key, dataKeyBytes(input), input.EncryptionContext, 'GenerateDataKey', xksCaller(call, 'GenerateDataKey'));
    return { CiphertextBlob: dk.ciphertextBlob, Plaintext: dk.plaintext, KeyId: key.arn, KeyMaterialId: dk.materialId };
  },
});
