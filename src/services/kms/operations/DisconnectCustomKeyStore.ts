import { defineOperation } from '../../operation.js';
import { KmsCall, onAccount } from '../call.js';
import { customKeyStores } from '../custom-key-store-call.js';

/**
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_DisconnectCustomKeyStore.html
 * Every node sees the store DISCONNECTED at once (the state is in the database): its keys become Unavailable.
 */
export const DisconnectCustomKeyStore = defineOperation<KmsCall, { CustomKeyStoreId: string }, undefined>({
  name: 'DisconnectCustomKeyStore',
  action: 'kms:DisconnectCustomKeyStore',
  readOnly: false,
  resolve: async () => ({ access: [onAccount('kms:DisconnectCustomKeyStore')], state: undefined }),
  handle: async (input, call) => {
    await customKeyStores(call).disconnect(call.scope, input.CustomKeyStoreId);
    return {};
  },
});
