import { SecretBytes } from '../../core/crypto/secret-bytes.js';
import { needs } from '../../core/errors/aws-error.js';
import { CommonErrors } from '../../core/errors/common.js';
import { KmsErrors } from '../../core/errors/kms.js';

/** The parameters of CreateCustomKeyStore and UpdateCustomKeyStore that only a CloudHSM key store takes. */
type CloudHsmParameter = 'CloudHsmClusterId' | 'TrustAnchorCertificate' | 'KeyStorePassword';

/**
 * Each CloudHSM parameter given is ValidationException: Strongroom's custom key stores are all EXTERNAL_KEY_STORE.
 * Checked in the order the operation lists them (UpdateCustomKeyStore has no TrustAnchorCertificate).
 */
export function refuseCloudHsmParameters(input: { [P in CloudHsmParameter]?: string }, parameters: readonly CloudHsmParameter[]): void {
  for (const p of parameters) {
    needs(input[p] === undefined, CommonErrors.ValidationException, `${p} is valid only for custom key stores of type AWS_CLOUDHSM.`);
  }
}

/**
 * VPC_ENDPOINT_SERVICE connectivity, or a VPC endpoint service name, is XksProxyVpcEndpointServiceNotFoundException:
 * there is no Amazon VPC. An absent XksProxyConnectivity (an Update that keeps the store's) is PUBLIC_ENDPOINT.
 */
export function refuseVpcEndpointService(input: { XksProxyConnectivity?: string; XksProxyVpcEndpointServiceName?: string }): void {
  needs(
    (input.XksProxyConnectivity === undefined || input.XksProxyConnectivity === 'PUBLIC_ENDPOINT') && input.XksProxyVpcEndpointServiceName === undefined,
    KmsErrors.XksProxyVpcEndpointServiceNotFoundException,
    'XksProxyConnectivity VPC_ENDPOINT_SERVICE is not supported: Strongroom has no Amazon VPC endpoint services. Use PUBLIC_ENDPOINT.',
  );
}

/** XksProxyAuthenticationCredential as the store keeps it: the access key id, and the raw secret as SecretBytes. */
export function proxyCredential(c: { AccessKeyId: string; RawSecretAccessKey: string }): { accessKeyId: string; secret: SecretBytes } {
  return { accessKeyId: c.AccessKeyId, secret: SecretBytes.adopt(Buffer.from(c.RawSecretAccessKey, 'utf8')) };
}
