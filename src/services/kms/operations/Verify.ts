import { SecretBytes } from '../../../core/crypto/secret-bytes.js';
import { MessageType } from '../../../core/kms/key-specs/key-spec.js';
import { keyOperation } from '../call.js';

interface Input {
  KeyId: string;
  Message: SecretBytes;
  MessageType?: MessageType;
  Signature: Buffer;
  SigningAlgorithm: string;
}

/**
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_Verify.html — SignatureValid true, or
 * KMSInvalidSignatureException when the signature does not verify.
 */
export const Verify = keyOperation<Input>({
  name: 'Verify',
  action: 'kms:Verify',
  crossAccount: true,
  // CloudTrail marks KMS cryptographic operations read-only (no key or resource changes).
  readOnly: true,
  aliases: true,
  // https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-signing-algorithm
  conditions: (input) => ({ 'kms:SigningAlgorithm': input.SigningAlgorithm, 'kms:MessageType': input.MessageType ?? 'RAW' }),
  handle: async (input, call, key) => {
    await call.kms.signatures.verify(key, input.SigningAlgorithm, input.Message, input.MessageType ?? 'RAW', input.Signature);
    return { KeyId: key.arn, SignatureValid: true, SigningAlgorithm: input.SigningAlgorithm };
  },
});
