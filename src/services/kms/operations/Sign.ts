import { SecretBytes } from '../../../core/crypto/secret-bytes.js';
import { MessageType } from '../../../core/kms/key-specs/key-spec.js';
import { keyOperation } from '../call.js';

interface Input {
  KeyId: string;
  Message: SecretBytes;
  MessageType?: MessageType;
  SigningAlgorithm: string;
}

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_Sign.html — message up to 4096 bytes (model), RAW by default. */
export const Sign = keyOperation<Input>({
  name: 'Sign',
  action: 'kms:Sign',
  crossAccount: true,
  // CloudTrail marks KMS cryptographic operations read-only (no key or resource changes).
  readOnly: true,
  aliases: true,
  // https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-signing-algorithm
  conditions: (input) => ({ 'kms:SigningAlgorithm': input.SigningAlgorithm, 'kms:MessageType': input.MessageType ?? 'RAW' }),
  handle: async (input, call, key) => ({
    KeyId: key.arn,
    Signature: await call.kms.signatures.sign(key, input.SigningAlgorithm, input.Message, input.MessageType ?? 'RAW'),
    SigningAlgorithm: input.SigningAlgorithm,
  }),
});
