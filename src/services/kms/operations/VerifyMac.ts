import { SecretBytes } from '../../../core/crypto/secret-bytes.js';
import { keyOperation } from '../call.js';

interface Input {
  KeyId: string;
  Message: SecretBytes;
  MacAlgorithm: string;
  Mac: Buffer;
}

/**
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_VerifyMac.html — MacValid true, or
 * KMSInvalidMacException when the MAC does not match.
 */
export const VerifyMac = keyOperation<Input>({
  name: 'VerifyMac',
  action: 'kms:VerifyMac',
  crossAccount: true,
  // CloudTrail marks KMS cryptographic operations read-only (no key or resource changes).
  readOnly: true,
  aliases: true,
  conditions: (input) => ({ 'kms:MacAlgorithm': input.MacAlgorithm }),
  handle: async (input, call, key) => {
    await call.kms.macs.verify(key, input.MacAlgorithm, input.Message, input.Mac);
    return { KeyId: key.arn, MacValid: true, MacAlgorithm: input.MacAlgorithm };
  },
});
