import { defineOperation } from '../../operation.js';
import { KmsCall, onAccount } from '../call.js';
import { customKeyStores, xksCaller } from '../custom-key-store-call.js';
import { proxyCredential, refuseCloudHsmParameters, refuseVpcEndpointService } from '../custom-key-store-input.js';

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_UpdateCustomKeyStore.html */
interface Input {
  CustomKeyStoreId: string;
  NewCustomKeyStoreName?: string;
  KeyStorePassword?: string;
  CloudHsmClusterId?: string;
  XksProxyUriEndpoint?: string;
  XksProxyUriPath?: string;
  XksProxyVpcEndpointServiceName?: string;
  XksProxyVpcEndpointServiceOwner?: string;
  XksProxyAuthenticationCredential?: { AccessKeyId: string; RawSecretAccessKey: string };
  XksProxyConnectivity?: string;
}

export const UpdateCustomKeyStore = defineOperation<KmsCall, Input, undefined>({
  name: 'UpdateCustomKeyStore',
  action: 'kms:UpdateCustomKeyStore',
  readOnly: false,
  resolve: async () => ({ access: [onAccount('kms:UpdateCustomKeyStore')], state: undefined }),
  handle: async (input, call) => {
    refuseCloudHsmParameters(input, ['KeyStorePassword', 'CloudHsmClusterId']);
    refuseVpcEndpointService(input);
    const credential = input.XksProxyAuthenticationCredential;
    await customKeyStores(call).update(
      call.scope,
      input.CustomKeyStoreId,
      {
        ...(input.NewCustomKeyStoreName !== undefined ? { name: input.NewCustomKeyStoreName } : {}),
        ...(input.XksProxyUriEndpoint !== undefined ? { uriEndpoint: input.XksProxyUriEndpoint } : {}),
        ...(input.XksProxyUriPath !== undefined ? { uriPath: input.XksProxyUriPath } : {}),
        ...(credential ? proxyCredential(credential) : {}),
      },
      xksCaller(call, 'UpdateCustomKeyStore'),
    );
    return {};
  },
});
