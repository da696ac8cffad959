import { keyOperation } from '../call.js';
import { needsNoRecipient } from '../symmetric.js';

interface Input {
  KeyId: string;
  KeyAgreementAlgorithm: string;
  PublicKey: Buffer;
  Recipient?: unknown;
}

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_DeriveSharedSecret.html */
export const DeriveSharedSecret = keyOperation<Input>({
  name: 'DeriveSharedSecret',
  action: 'kms:DeriveSharedSecret',
  crossAccount: true,
  // CloudTrail marks KMS cryptographic operations read-only (no key or resource changes).
  readOnly: true,
  aliases: true,
  // https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-key-agreement-algorithm
  conditions: (input) => ({ 'kms:KeyAgreementAlgorithm': input.KeyAgreementAlgorithm }),
  handle: async (input, call, key) => {
    needsNoRecipient(input.Recipient);
    return {
      KeyId: key.arn,
      SharedSecret: await call.kms.keyAgreement.derive(key, input.KeyAgreementAlgorithm, input.PublicKey),
      KeyAgreementAlgorithm: input.KeyAgreementAlgorithm,
      KeyOrigin: key.origin,
    };
  },
});
