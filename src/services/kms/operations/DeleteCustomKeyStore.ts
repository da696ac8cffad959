import { defineOperation } from '../../operation.js';
import { KmsCall, onAccount } from '../call.js';
import { customKeyStores } from '../custom-key-store-call.js';

/**
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_DeleteCustomKeyStore.html
 * Only a disconnected store with no KMS keys (CustomKeyStoreHasCMKsException otherwise, as AWS).
 */
export const DeleteCustomKeyStore = defineOperation<KmsCall, { CustomKeyStoreId: string }, undefined>({
  name: 'DeleteCustomKeyStore',
  action: 'kms:DeleteCustomKeyStore',
  readOnly: false,
  resolve: async () => ({ access: [onAccount('kms:DeleteCustomKeyStore')], state: undefined }),
  handle: async (input, call) => {
    await customKeyStores(call).delete(call.scope, input.CustomKeyStoreId);
    return {};
  },
});
