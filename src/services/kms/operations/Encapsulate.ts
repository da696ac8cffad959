import { keyOperation } from '../call.js';

interface Input {
  KeyId: string;
  EncapsulationAlgorithm: string;
}

/**
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_Encapsulate.html — a shared secret and its
 * encapsulated form under an ML-KEM key's public key (the operation is newer than botocore: model-newer.json).
 */
export const Encapsulate = keyOperation<Input>({
  name: 'Encapsulate',
  action: 'kms:Encapsulate',
  crossAccount: true,
  // CloudTrail marks KMS cryptographic operations read-only (no key or resource changes).
  readOnly: true,
  aliases: true,
  handle: async (input, call, key) => {
    const { sharedSecret, ciphertext } = await call.kms.encapsulation.encapsulate(key, input.EncapsulationAlgorithm);
    return {
      KeyId: key.arn,
      SharedSecret: sharedSecret,
      SharedSecretCiphertextBlob: ciphertext,
      EncapsulationAlgorithm: input.EncapsulationAlgorithm,
    };
  },
});
