import { Page } from './types.js';

/** ConnectionState of the KMS model (CONNECTING and DISCONNECTING pass within one call here). */
export type ConnectionState = 'CONNECTED' | 'CONNECTING' | 'FAILED' | 'DISCONNECTED' | 'DISCONNECTING';

/**
 * A custom key store of type EXTERNAL_KEY_STORE (the only type Strongroom serves). Its connection state lives
 * here, in the database, so every node sharing it sees Connect/Disconnect at once. The proxy's secret access
 * key is kept only wrapped by the root of trust (bound to the store's id and access key id).
 */
export interface CustomKeyStoreRecord {
  readonly id: string;
  readonly accountId: string;
  readonly region: string;
  readonly name: string;
  readonly type: 'EXTERNAL_KEY_STORE';
  readonly connectionState: ConnectionState;
  readonly connectionErrorCode: string | null;
  readonly createdAt: number;
  readonly uriEndpoint: string;
  readonly uriPath: string;
  readonly connectivity: 'PUBLIC_ENDPOINT';
  readonly accessKeyId: string;
  /** The RawSecretAccessKey wrapped by the root of trust, base64. */
  readonly secretWrapped: string;
}

export type CustomKeyStorePatch = Partial<Pick<CustomKeyStoreRecord, 'name' | 'connectionState' | 'connectionErrorCode' | 'uriEndpoint' | 'uriPath' | 'accessKeyId' | 'secretWrapped'>>;

/** A KMS key of Origin EXTERNAL_KEY_STORE: its custom key store and external key id. */
export interface XksKeyRecord {
  readonly keyId: string;
  readonly customKeyStoreId: string;
  readonly xksKeyId: string;
}

/** Which uniqueness rule a write broke (AWS: CustomKeyStoreNameInUseException / XksProxyUriInUseException). */
export class CustomKeyStoreConflict extends Error {
  constructor(readonly what: 'name' | 'uri') {
    super(`custom key store ${what} in use`);
    this.name = 'CustomKeyStoreConflict';
  }
}

export interface CustomKeyStoreStore {
  /** Throws CustomKeyStoreConflict when the name, or the endpoint and path, is taken in the account and region. */
  createCustomKeyStore(r: CustomKeyStoreRecord): Promise<void>;
  getCustomKeyStore(id: string): Promise<CustomKeyStoreRecord | undefined>;
  /** In id order, after `after`. */
  listCustomKeyStores(accountId: string, region: string, after: string | undefined, limit: number): Promise<Page<CustomKeyStoreRecord>>;
  /** Applies the patch (CustomKeyStoreConflict as create); undefined when there is no such store. */
  updateCustomKeyStore(id: string, patch: CustomKeyStorePatch): Promise<CustomKeyStoreRecord | undefined>;
  deleteCustomKeyStore(id: string): Promise<boolean>;
  /**
   * Records that `keyId` uses the external key; false when an existing KMS key already does. An association
   * whose KMS key no longer exists (deleted, or never created after a crash) is taken over.
   */
  reserveXksKey(r: XksKeyRecord): Promise<boolean>;
  releaseXksKey(keyId: string): Promise<void>;
  getXksKey(keyId: string): Promise<XksKeyRecord | undefined>;
  /** The KMS keys (that still exist) in the store. */
  countKeysInCustomKeyStore(id: string): Promise<number>;
}
