import { generateDataKeyPair } from '../../core/kms/data-key-pairs.js';
import { keyOperation } from './call.js';
import { xksCaller } from './custom-key-store-call.js';
import { needsNoRecipient } from './symmetric.js';

interface Input {
  KeyId: string;
  KeyPairSpec: string;
  EncryptionContext?: Record<string, string>;
  Recipient?: unknown;
}

/**
 * GenerateDataKeyPair and GenerateDataKeyPairWithoutPlaintext: the same operation but for whether the plaintext
 * private key is answered (without it, it is wiped at once).
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateDataKeyPair.html
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateDataKeyPairWithoutPlaintext.html
 */
export function dataKeyPairOperation(name: 'GenerateDataKeyPair' | 'GenerateDataKeyPairWithoutPlaintext', withPlaintext: boolean) {
  return keyOperation<Input>({
    name,
    action: `kms:${name}`,
    crossAccount: true,
    // CloudTrail marks KMS cryptographic operations read-only (no key or resource changes).
    readOnly: true,
    aliases: true,
    // https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-data-key-pair-spec
    conditions: (input) => ({ 'kms:DataKeyPairSpec': input.KeyPairSpec, 'kms:EncryptionAlgorithm': 'SYMMETRIC_DEFAULT' }),
    handle: async (input, call, key) => {
      needsNoRecipient(input.Recipient);
      const pair = await generateDataKeyPair(call.kms.crypto, key, input.KeyPairSpec, input.EncryptionContext, name, xksCaller(call, name));
      if (!withPlaintext) pair.privateKey.wipe();
      return {
        PrivateKeyCiphertextBlob: pair.ciphertextBlob,
        ...(withPlaintext ? { PrivateKeyPlaintext: pair.privateKey } : {}),
        PublicKey: pair.publicKey,
        KeyId: key.arn,
        KeyPairSpec: input.KeyPairSpec,
        KeyMaterialId: pair.materialId,
      };
    },
  });
}
