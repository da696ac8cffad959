import { keyOperation } from '../call.js';

interface Input {
  KeyId: string;
  WrappingAlgorithm: string;
  WrappingKeySpec: string;
}

/**
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_GetParametersForImport.html — an RSA wrapping
 * public key (DER SubjectPublicKeyInfo) and an import token, both valid 24 hours, for a key of Origin
 * EXTERNAL; a newer request replaces the older one's. Key ID or key ARN only.
 */
export const GetParametersForImport = keyOperation<Input>({
  name: 'GetParametersForImport',
  action: 'kms:GetParametersForImport',
  readOnly: true,
  aliases: false,
  // https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-wrapping-algorithm
  conditions: (input) => ({ 'kms:WrappingAlgorithm': input.WrappingAlgorithm, 'kms:WrappingKeySpec': input.WrappingKeySpec }),
  handle: async (input, call, key) => {
    const p = await call.kms.imports.parameters(key, input.WrappingAlgorithm, input.WrappingKeySpec);
    return { KeyId: key.arn, ImportToken: p.importToken, PublicKey: p.publicKey, ParametersValidTo: new Date(p.validTo) };
  },
});
