import { keyOperation } from '../call.js';

interface Input {
  KeyId: string;
  SharedSecretCiphertextBlob: Buffer;
  EncapsulationAlgorithm: string;
}

/**
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_Decapsulate.html — the shared secret of an
 * encapsulated form, with an ML-KEM key's private key (the operation is newer than botocore: model-newer.json).
 */
export const Decapsulate = keyOperation<Input>({
  name: 'Decapsulate',
  action: 'kms:Decapsulate',
  crossAccount: true,
  // CloudTrail marks KMS cryptographic operations read-only (no key or resource changes).
  readOnly: true,
  aliases: true,
  handle: async (input, call, key) => ({
    KeyId: key.arn,
    SharedSecret: await call.kms.encapsulation.decapsulate(key, input.EncapsulationAlgorithm, input.SharedSecretCiphertextBlob),
    EncapsulationAlgorithm: input.EncapsulationAlgorithm,
  }),
});
