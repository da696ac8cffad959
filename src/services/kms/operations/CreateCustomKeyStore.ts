import { needs } from '../../../core/errors/aws-error.js';
import { CommonErrors } from '../../../core/errors/common.js';
import { KmsErrors } from '../../../core/errors/kms.js';
import { defineOperation } from '../../operation.js';
import { KmsCall, onAccount } from '../call.js';
import { customKeyStores, xksCaller } from '../custom-key-store-call.js';
import { proxyCredential, refuseCloudHsmParameters, refuseVpcEndpointService } from '../custom-key-store-input.js';

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateCustomKeyStore.html */
interface Input {
  CustomKeyStoreName: string;
  CloudHsmClusterId?: string;
  TrustAnchorCertificate?: string;
  KeyStorePassword?: string;
  CustomKeyStoreType?: string;
  XksProxyUriEndpoint?: string;
  XksProxyUriPath?: string;
  XksProxyVpcEndpointServiceName?: string;
  XksProxyVpcEndpointServiceOwner?: string;
  XksProxyAuthenticationCredential?: { AccessKeyId: string; RawSecretAccessKey: string };
  XksProxyConnectivity?: string;
}

/**
 * Only EXTERNAL_KEY_STORE stores with PUBLIC_ENDPOINT connectivity. AWS_CLOUDHSM (the type's default) is
 * CloudHsmClusterNotFoundException — there is no CloudHSM cluster a Strongroom could find, and it is the error
 * AWS gives for a cluster it cannot find; VPC_ENDPOINT_SERVICE is XksProxyVpcEndpointServiceNotFoundException —
 * there is no Amazon VPC either. The proxy's health is checked before the store is made, as AWS does for a
 * public endpoint; the store starts DISCONNECTED.
 */
export const CreateCustomKeyStore = defineOperation<KmsCall, Input, undefined>({
  name: 'CreateCustomKeyStore',
  action: 'kms:CreateCustomKeyStore',
  readOnly: false,
  resolve: async () => ({ access: [onAccount('kms:CreateCustomKeyStore')], state: undefined }),
  handle: async (input, call) => {
    const type = input.CustomKeyStoreType ?? 'AWS_CLOUDHSM';
    needs(
      type === 'EXTERNAL_KEY_STORE',
      KmsErrors.CloudHsmClusterNotFoundException,
      'Custom key stores of type AWS_CLOUDHSM are not supported: Strongroom has no CloudHSM clusters. Use CustomKeyStoreType EXTERNAL_KEY_STORE.',
    );
    refuseCloudHsmParameters(input, ['CloudHsmClusterId', 'TrustAnchorCertificate', 'KeyStorePassword']);
    for (const p of ['XksProxyUriEndpoint', 'XksProxyUriPath', 'XksProxyAuthenticationCredential', 'XksProxyConnectivity'] as const) {
      needs(input[p] !== undefined, CommonErrors.ValidationException, `${p} is required for custom key stores of type EXTERNAL_KEY_STORE.`);
    }
    refuseVpcEndpointService(input);
    const created = await customKeyStores(call).create(
      call.scope,
      {
        name: input.CustomKeyStoreName,
        uriEndpoint: input.XksProxyUriEndpoint!,
        uriPath: input.XksProxyUriPath!,
        ...proxyCredential(input.XksProxyAuthenticationCredential!),
      },
      xksCaller(call, 'CreateCustomKeyStore'),
    );
    return { CustomKeyStoreId: created.id };
  },
});
