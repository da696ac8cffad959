import { algorithmsOf, customerMasterKeySpecOf } from '../../../core/kms/key-specs/index.js';
import { keyOperation } from '../call.js';

/**
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_GetPublicKey.html — the DER SubjectPublicKeyInfo
 * (RFC 5280) of an asymmetric key, with what the key may be used for, so it can be used outside KMS.
 */
export const GetPublicKey = keyOperation<{ KeyId: string }>({
  name: 'GetPublicKey',
  action: 'kms:GetPublicKey',
  crossAccount: true,
  readOnly: true,
  aliases: true,
  handle: async (_input, call, key) => ({
    KeyId: key.arn,
    PublicKey: await call.kms.signatures.publicKey(key),
    CustomerMasterKeySpec: customerMasterKeySpecOf(key),
    KeySpec: key.keySpec,
    KeyUsage: key.keyUsage,
    ...algorithmsOf(key),
  }),
});
