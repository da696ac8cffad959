import { AwsError } from '../../core/errors/aws-error.js';
import { KmsErrors } from '../../core/errors/kms.js';
import { CustomKeyStores, XksCaller } from '../../core/kms/custom-key-stores.js';
import { CustomKeyStoreRecord } from '../../store/metadata/custom-key-store-types.js';
import { KeyRecord } from '../../store/metadata/types.js';
import { Kms } from '../../core/kms/kms.js';
import { InCustomKeyStore } from './key-metadata.js';
import { KmsCall } from './call.js';

/** The custom key stores of this server (KMSInternalException if a process was built without them). */
export function customKeyStores(call: KmsCall): CustomKeyStores {
  const c = call.kms.customKeyStores;
  if (!c) throw new AwsError(KmsErrors.KMSInternalException, 'Custom key stores are not wired in this process.');
  return c;
}

/** What the XKS proxy's requestMetadata says of this call: the caller, the KMS operation and request id, the service on whose behalf. */
export function xksCaller(call: KmsCall, operation: string): XksCaller {
  const via = call.request.viaService?.split('.')[0];
  return { principalArn: call.request.principal.arn, operation, requestId: call.request.requestId, ...(via ? { viaService: via } : {}) };
}

/** An entry of DescribeCustomKeyStores (CustomKeyStoresListEntry): never the secret. */
export function customKeyStoreEntry(s: CustomKeyStoreRecord): Record<string, unknown> {
  return {
    CustomKeyStoreId: s.id,
    CustomKeyStoreName: s.name,
    ConnectionState: s.connectionState,
    ...(s.connectionErrorCode !== null ? { ConnectionErrorCode: s.connectionErrorCode } : {}),
    CreationDate: new Date(s.createdAt),
    CustomKeyStoreType: s.type,
    XksProxyConfiguration: { Connectivity: s.connectivity, AccessKeyId: s.accessKeyId, UriEndpoint: s.uriEndpoint, UriPath: s.uriPath },
  };
}

/** For KeyMetadata: the custom key store of a key of Origin EXTERNAL_KEY_STORE, and whether it is connected. */
export async function inCustomKeyStore(kms: Kms, key: KeyRecord): Promise<InCustomKeyStore | undefined> {
  const c = kms.customKeyStores;
  const xks = c && (await c.xksKeyOf(key));
  return xks && { xks, connectionState: await c.connectionOf(key) };
}
