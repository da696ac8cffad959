import { SecretBytes } from '../../../core/crypto/secret-bytes.js';
import { keyOperation } from '../call.js';

interface Input {
  KeyId: string;
  Message: SecretBytes;
  MacAlgorithm: string;
}

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateMac.html — message up to 4096 bytes (model). */
export const GenerateMac = keyOperation<Input>({
  name: 'GenerateMac',
  action: 'kms:GenerateMac',
  crossAccount: true,
  // CloudTrail marks KMS cryptographic operations read-only (no key or resource changes).
  readOnly: true,
  aliases: true,
  // https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-mac-algorithm
  conditions: (input) => ({ 'kms:MacAlgorithm': input.MacAlgorithm }),
  handle: async (input, call, key) => ({
    Mac: await call.kms.macs.generate(key, input.MacAlgorithm, input.Message),
    MacAlgorithm: input.MacAlgorithm,
    KeyId: key.arn,
  }),
});
