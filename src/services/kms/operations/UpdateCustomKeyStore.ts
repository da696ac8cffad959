import { SecretBytes } from '../../../core/crypto/secret-bytes.js';
import { needs } from '../../../core/errors/aws-error.js';
import { CommonErrors } from '../../../core/errors/common.js';
import { KmsErrors } from '../../../core/errors/kms.js';
import { defineOperation } from '../../operation.js';
import { KmsCall, onAccount } from '../call.js';
import { customKeyStores, xksCaller } from '../custom-key-store-call.js';

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
    for (const p of ['KeyStorePassword', 'CloudHsmClusterId'] as const) {
      needs(input[p] === undefined, CommonErrors.ValidationException, `${p} is valid only for custom key stores of type AWS_CLOUDHSM.`);
    }
    needs(
      (input.XksProxyConnectivity === undefined || input.XksProxyConnectivity === 'PUBLIC_ENDPOINT') && input.XksProxyVpcEndpointServiceName === undefined,
      KmsErrors.XksProxyVpcEndpointServiceNotFoundException,
      'XksProxyConnectivity VPC_ENDPOINT_SERVICE is not supported: Strongroom has no Amazon VPC endpoint services. Use PUBLIC_ENDPOINT.',
    );
    const credential = input.XksProxyAuthenticationCredential;
    await customKeyStores(call).update(
      call.scope,
      input.CustomKeyStoreId,
      {
        ...(input.NewCustomKeyStoreName !== undefined ? { name: input.NewCustomKeyStoreName } : {}),
        ...(input.XksProxyUriEndpoint !== undefined ? { uriEndpoint: input.XksProxyUriEndpoint } : {}),
        ...(input.XksProxyUriPath !== undefined ? { uriPath: input.XksProxyUriPath } : {}),
        ...(credential ? { accessKeyId: credential.AccessKeyId, secret: SecretBytes.adopt(Buffer.from(credential.RawSecretAccessKey, 'utf8')) } : {}),
      },
      xksCaller(call, 'UpdateCustomKeyStore'),
    );
    return {};
  },
});
