import { randomBytes } from 'node:crypto';
import { AwsError, needs } from '../../../core/errors/aws-error.js';
import { CommonErrors } from '../../../core/errors/common.js';
import { KmsErrors } from '../../../core/errors/kms.js';
import { SecretBytes } from '../../../core/crypto/secret-bytes.js';
import { defineOperation } from '../../operation.js';
import { KmsCall, onAccount } from '../call.js';
import { needsNoRecipient } from '../symmetric.js';
import { customKeyStores } from '../custom-key-store-call.js';

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateRandom.html — 1–1024 bytes. */
export const GenerateRandom = defineOperation<KmsCall, { NumberOfBytes?: number; CustomKeyStoreId?: string; Recipient?: unknown }, undefined>({
  name: 'GenerateRandom',
  action: 'kms:GenerateRandom',
  readOnly: true,
  resolve: async () => ({ access: [onAccount('kms:GenerateRandom')], state: undefined }),
  handle: async (input, call) => {
    needsNoRecipient(input.Recipient);
    if (input.CustomKeyStoreId !== undefined) {
      // Only CloudHSM key stores generate random bytes, and there are none here: an external key store's id is
      // UnsupportedOperationException (AWS's API reference), any other CustomKeyStoreNotFoundException.
      await customKeyStores(call).get(call.scope, input.CustomKeyStoreId);
      throw new AwsError(KmsErrors.UnsupportedOperationException, `${input.CustomKeyStoreId} is an external key store; GenerateRandom does not support external key stores.`);
    }
    needs(input.NumberOfBytes !== undefined, CommonErrors.ValidationException, 'Please specify the number of bytes.');
    return { Plaintext: SecretBytes.adopt(randomBytes(input.NumberOfBytes)) };
  },
});
