import { defineOperation } from '../../operation.js';
import { KmsCall, onAccount } from '../call.js';
import { customKeyStores, xksCaller } from '../custom-key-store-call.js';

/**
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_ConnectCustomKeyStore.html
 * Connects at once: the proxy's health decides CONNECTED or FAILED (with its ConnectionErrorCode), which DescribeCustomKeyStores then shows; AWS does the same asynchronously through CONNECTING.
 */
export const ConnectCustomKeyStore = defineOperation<KmsCall, { CustomKeyStoreId: string }, undefined>({
  name: 'ConnectCustomKeyStore',
  action: 'kms:ConnectCustomKeyStore',
  readOnly: false,
  resolve: async () => ({ access: [onAccount('kms:ConnectCustomKeyStore')], state: undefined }),
  handle: async (input, call) => {
    await customKeyStores(call).connect(call.scope, input.CustomKeyStoreId, xksCaller(call, 'ConnectCustomKeyStore'));
    return {};
  },
});
