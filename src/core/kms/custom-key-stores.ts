import { randomBytes, randomUUID } from 'node:crypto';
import { KeyWrapper } from '../crypto/root-of-trust/root-of-trust.js';
import { SecretBytes } from '../crypto/secret-bytes.js';
import { XksLayer } from '../crypto/xks-ciphertext.js';
import { AwsError, ErrorSpec, needs } from '../errors/aws-error.js';
import { KmsErrors } from '../errors/kms.js';
import { Clock } from '../clock.js';
import { ConnectionState, CustomKeyStoreConflict, CustomKeyStorePatch, CustomKeyStoreRecord, CustomKeyStoreStore, XksKeyRecord } from '../../store/metadata/custom-key-store-types.js';
import { KeyRecord, Page } from '../../store/metadata/types.js';
import { KmsScope } from './context.js';
import { XksCallError, XksClient, XksFailure, XksTarget } from './xks/client.js';
import { ciphertextDataIntegrityValue, decodeBase64 } from './xks/wire.js';

/**
 * Custom key stores of type EXTERNAL_KEY_STORE and the proxy calls of their keys
 * (https://docs.aws.amazon.com/kms/latest/developerguide/keystore-external.html). Connection state lives in the
 * database, so every node sharing it answers alike; Connect checks the proxy's health there and then.
 * Failures are AWS's, per operation, as the XKS proxy API specification's "KMS Considerations" table lists them
 * (https://github.com/aws/aws-kms-xksproxy-api-spec, "Error codes"), with its messages.
 */

/** Who the proxy is told is calling (the spec's requestMetadata). */
export interface XksCaller {
  readonly principalArn: string;
  readonly operation: string;
  readonly requestId: string;
  readonly viaService?: string;
}

export interface NewExternalKeyStore {
  readonly name: string;
  readonly uriEndpoint: string;
  readonly uriPath: string;
  readonly accessKeyId: string;
  readonly secret: SecretBytes;
}

/** Each account may have 10 custom key stores per Region (AWS's quota). */
const MAX_STORES = 10;

const M = {
  invalidResponse: 'AWS KMS cannot interpret the response from the external key store proxy. If you see this error repeatedly, report it to your external key store proxy administrator.',
  InvalidStateException: 'The external key associated with this KMS key in an external key store is not enabled in the external key manager. Enable the external key in the external key manager and retry the request.',
  InvalidCiphertextException: 'The external key store proxy rejected the request because the specified ciphertext or encryption context is corrupted, missing, or otherwise invalid.',
  InvalidKeyUsageException: 'The external key associated with this KMS key in an external key store does not support the requested operation. Enable the operation on the key in your external key manager, and try the request again.',
  AuthenticationFailedException: 'The external key store proxy rejected the request because it could not authenticate AWS KMS. Verify the XKS proxy authentication credentials for your external key store and update if necessary.',
  AccessDeniedException: 'The external key store proxy denied access to the operation. Verify that the user and the external key are both authorized for this operation, and try the request again.',
  KeyNotFoundException: 'The external key associated with this KMS key in an external key store was not found in its external key manager. If the external key ID associated with this KMS key is incorrect, create a new KMS key with the correct external key ID.',
  InvalidUriPathException: 'The external key store proxy rejected the request because of an invalid URI path. Verify the URI path for your external key store and update if necessary.',
  UnsupportedOperationException: 'The external key store proxy rejected the request because it does not support the requested operation. If you see this error repeatedly, report it to your external key store proxy administrator.',
  DependencyTimeoutException: 'The external key store proxy did not respond to the request in the time allotted. Retry the request. If you see this error repeatedly, report it to your external key store proxy administrator.',
  ThrottlingException: 'The external key store proxy rejected the request due to a very high request rate. Reduce the frequency of your calls using KMS keys in this external key store.',
  InternalException: 'The external key store proxy rejected the request because it cannot communicate with the external key manager. Verify that the external key store proxy configuration is correct and that the external key manager is available.',
  unreachable: 'AWS KMS cannot communicate with the external key store proxy. This might be a transient network issue. If you see this error repeatedly, verify that your external key store proxy is active and is connected to the network, and that its endpoint URI is correct in your external keystore.',
  tls: 'AWS KMS cannot establish a TLS connection to the external key store proxy. Verify the TLS configuration, including its certificate.',
  timeout: 'AWS KMS rejected the request because the external key store proxy did not respond in time. Retry the request. If you see this error repeatedly, report it to your external key store proxy administrator.',
  notConnected: 'This KMS key is in a custom key store that is not connected to its external key store proxy. Connect the external key store and try the request again.',
  badCiphertext: 'The ciphertext that the external key store proxy submitted for decryption, or the encryption context, is corrupted, missing, or otherwise invalid.',
} as const;

function messageOf(f: XksFailure): string {
  if (f.kind === 'proxy') return (M as Record<string, string>)[f.errorName] ?? M.invalidResponse;
  return f.kind === 'invalid-response' ? M.invalidResponse : M[f.kind];
}

/** The exception of Create/UpdateCustomKeyStore for a failed health check. */
function storeError(f: XksFailure): ErrorSpec {
  const name = f.kind === 'proxy' ? f.errorName : f.kind;
  switch (name) {
    case 'AuthenticationFailedException':
      return KmsErrors.XksProxyIncorrectAuthenticationCredentialException;
    case 'InvalidUriPathException':
      return KmsErrors.XksProxyInvalidConfigurationException;
    case 'DependencyTimeoutException':
    case 'ThrottlingException':
    case 'unreachable':
    case 'tls':
    case 'timeout':
      return KmsErrors.XksProxyUriUnreachableException;
    default:
      return KmsErrors.XksProxyInvalidResponseException;
  }
}

/** ConnectCustomKeyStore's ConnectionErrorCode for a failed health check (AWS's xks-troubleshooting page). */
function connectionErrorCode(f: XksFailure): string {
  const name = f.kind === 'proxy' ? f.errorName : f.kind;
  switch (name) {
    case 'AuthenticationFailedException':
      return 'INVALID_CREDENTIALS';
    case 'InvalidUriPathException':
      return 'XKS_PROXY_INVALID_CONFIGURATION';
    case 'AccessDeniedException':
      return 'XKS_PROXY_ACCESS_DENIED';
    case 'DependencyTimeoutException':
    case 'timeout':
      return 'XKS_PROXY_TIMED_OUT';
    case 'ThrottlingException':
    case 'unreachable':
      return 'XKS_PROXY_NOT_REACHABLE';
    case 'tls':
      return 'XKS_PROXY_INVALID_TLS_CONFIGURATION';
    default:
      return 'XKS_PROXY_INVALID_RESPONSE';
  }
}

/** CreateKey's exception for a failed GetKeyMetadata. */
function createKeyError(f: XksFailure): ErrorSpec {
  const name = f.kind === 'proxy' ? f.errorName : f.kind;
  switch (name) {
    case 'InvalidStateException':
    case 'InvalidKeyUsageException':
      return KmsErrors.XksKeyInvalidConfigurationException;
    case 'KeyNotFoundException':
      return KmsErrors.XksKeyNotFoundException;
    case 'AccessDeniedException':
      return KmsErrors.KMSInvalidStateException;
    default:
      return KmsErrors.CustomKeyStoreInvalidStateException;
  }
}

const storeNotFound = (what: string) =>
  new AwsError(KmsErrors.CustomKeyStoreNotFoundException, `Custom key store ${what} does not exist in this account and Region.`);

export class CustomKeyStores {
  /** Unwrapped proxy secrets by their wrapped form (a store's secret changes only with UpdateCustomKeyStore). */
  readonly #secrets = new Map<string, SecretBytes>();

  /** `operator seal`: wipes the unwrapped proxy secrets (they are unwrapped again after the next unseal). */
  forgetSecrets(): void {
    for (const s of this.#secrets.values()) s.wipe();
    this.#secrets.clear();
  }

  constructor(
    private readonly store: CustomKeyStoreStore,
    /** The keyring (under the root of trust): it wraps the proxies' secrets. */
    private readonly root: KeyWrapper,
    private readonly client: XksClient,
    private readonly clock: Clock,
  ) {}

  async create(scope: KmsScope, input: NewExternalKeyStore, caller: XksCaller): Promise<CustomKeyStoreRecord> {
    const existing = await this.store.listCustomKeyStores(scope.accountId, scope.region, undefined, MAX_STORES);
    needs(existing.items.length < MAX_STORES, KmsErrors.LimitExceededException, `An account can have at most ${MAX_STORES} custom key stores in a Region.`);
    // Names and URIs in use are refused before the proxy is contacted (the store re-checks them as it writes).
    if (existing.items.some((e) => e.name === input.name)) throw conflictError('name');
    if (existing.items.some((e) => e.uriEndpoint === input.uriEndpoint && e.uriPath === input.uriPath)) throw conflictError('uri');
    // AWS connects to a PUBLIC_ENDPOINT proxy while creating the store: its endpoint, path and credential must work.
    await this.#health({ ...input, region: scope.region }, caller, storeError);
    const id = `cks-${randomBytes(9).toString('hex').slice(0, 17)}`;
    const record: CustomKeyStoreRecord = {
      id,
      accountId: scope.accountId,
      region: scope.region,
      name: input.name,
      type: 'EXTERNAL_KEY_STORE',
      connectionState: 'DISCONNECTED',
      connectionErrorCode: null,
      createdAt: this.clock.now(),
      uriEndpoint: input.uriEndpoint,
      uriPath: input.uriPath,
      connectivity: 'PUBLIC_ENDPOINT',
      accessKeyId: input.accessKeyId,
      secretWrapped: (await this.root.wrap(input.secret, secretAad(id, input.accessKeyId))).toString('base64'),
    };
    await this.#write(() => this.store.createCustomKeyStore(record));
    return record;
  }

  /** The store of that id in the caller's account and region, else CustomKeyStoreNotFoundException. */
  async get(scope: KmsScope, id: string): Promise<CustomKeyStoreRecord> {
    const s = await this.store.getCustomKeyStore(id);
    if (!s || s.accountId !== scope.accountId || s.region !== scope.region) throw storeNotFound(id);
    return s;
  }

  list(scope: KmsScope, after: string | undefined, limit: number): Promise<Page<CustomKeyStoreRecord>> {
    return this.store.listCustomKeyStores(scope.accountId, scope.region, after, limit);
  }

  /**
   * UpdateCustomKeyStore: the endpoint can change only while disconnected; the name, path and credential at
   * any time. A change of endpoint, path or credential is checked against the proxy's health first.
   */
  async update(
    scope: KmsScope,
    id: string,
    change: { name?: string; uriEndpoint?: string; uriPath?: string; accessKeyId?: string; secret?: SecretBytes },
    caller: XksCaller,
  ): Promise<void> {
    const s = await this.get(scope, id);
    if (change.uriEndpoint !== undefined && change.uriEndpoint !== s.uriEndpoint) {
      needs(
        s.connectionState === 'DISCONNECTED' || s.connectionState === 'FAILED',
        KmsErrors.CustomKeyStoreInvalidStateException,
        `Custom key store ${id} must be disconnected to change its XksProxyUriEndpoint (it is ${s.connectionState}).`,
      );
    }
    const patch: { -readonly [K in keyof CustomKeyStorePatch]: CustomKeyStorePatch[K] } = {};
    if (change.name !== undefined) patch.name = change.name;
    if (change.uriEndpoint !== undefined) patch.uriEndpoint = change.uriEndpoint;
    if (change.uriPath !== undefined) patch.uriPath = change.uriPath;
    if (change.accessKeyId !== undefined && change.secret !== undefined) {
      patch.accessKeyId = change.accessKeyId;
      patch.secretWrapped = (await this.root.wrap(change.secret, secretAad(id, change.accessKeyId))).toString('base64');
    }
    if (patch.uriEndpoint !== undefined || patch.uriPath !== undefined || patch.accessKeyId !== undefined) {
      const target = await this.#target({ ...s, ...patch });
      await this.#health({ ...target, secret: change.secret ?? target.secret }, caller, storeError);
    }
    await this.#write(() => this.store.updateCustomKeyStore(id, patch));
  }

  /**
   * ConnectCustomKeyStore: CONNECTED when the proxy's health check passes, else FAILED with AWS's
   * ConnectionErrorCode. Connecting a CONNECTED store is a no-op; a FAILED one must be disconnected first
   * (AWS: "To reconnect a custom key store in a FAILED state, disconnect it, then connect it").
   */
  async connect(scope: KmsScope, id: string, caller: XksCaller): Promise<void> {
    const s = await this.get(scope, id);
    if (s.connectionState === 'CONNECTED') return;
    needs(
      s.connectionState === 'DISCONNECTED',
      KmsErrors.CustomKeyStoreInvalidStateException,
      `Custom key store ${id} is ${s.connectionState}; ${s.connectionState === 'FAILED' ? 'disconnect it before connecting it again' : 'wait for it to finish'}.`,
    );
    let state: ConnectionState = 'CONNECTED';
    let code: string | null = null;
    try {
      await this.#health(await this.#target(s), caller, storeError);
    } catch (err) {
      if (!(err instanceof HealthFailure)) throw err;
      state = 'FAILED';
      code = connectionErrorCode(err.failure);
    }
    await this.store.updateCustomKeyStore(id, { connectionState: state, connectionErrorCode: code });
  }

  async disconnect(scope: KmsScope, id: string): Promise<void> {
    const s = await this.get(scope, id);
    needs(
      s.connectionState !== 'DISCONNECTED',
      KmsErrors.CustomKeyStoreInvalidStateException,
      `Custom key store ${id} is already DISCONNECTED.`,
    );
    await this.store.updateCustomKeyStore(id, { connectionState: 'DISCONNECTED', connectionErrorCode: null });
  }

  /** DeleteCustomKeyStore: only a disconnected store without KMS keys (keys pending deletion count). */
  async delete(scope: KmsScope, id: string): Promise<void> {
    const s = await this.get(scope, id);
    needs(
      s.connectionState === 'DISCONNECTED',
      KmsErrors.CustomKeyStoreInvalidStateException,
      `Custom key store ${id} must be disconnected before it is deleted (it is ${s.connectionState}).`,
    );
    const keys = await this.store.countKeysInCustomKeyStore(id);
    needs(keys === 0, KmsErrors.CustomKeyStoreHasCMKsException, `Custom key store ${id} contains ${keys} KMS keys; delete them (ScheduleKeyDeletion, then wait for the waiting period) before deleting the key store.`);
    await this.store.deleteCustomKeyStore(id);
  }

  /**
   * Before CreateKey makes a key of Origin EXTERNAL_KEY_STORE: the store is connected, the external key id is
   * not used by another KMS key of the store, and the proxy says it is an enabled AES_256 key allowing ENCRYPT
   * and DECRYPT. Returns the reservation; `release` it if the key is not created after all.
   */
  async prepareKey(scope: KmsScope, storeId: string, xksKeyId: string, keyId: string, caller: XksCaller): Promise<XksKeyRecord> {
    const s = await this.get(scope, storeId);
    needs(
      s.connectionState === 'CONNECTED',
      KmsErrors.CustomKeyStoreInvalidStateException,
      `Custom key store ${storeId} is not connected (${s.connectionState}); connect it (ConnectCustomKeyStore) before creating KMS keys in it.`,
    );
    let meta: Record<string, unknown>;
    try {
      meta = await this.client.call(await this.#target(s), `keys/${xksKeyId}/metadata`, { requestMetadata: requestMetadata(caller) });
    } catch (err) {
      if (err instanceof XksCallError) throw new AwsError(createKeyError(err.failure), messageOf(err.failure));
      throw err;
    }
    const usage = Array.isArray(meta.keyUsage) ? meta.keyUsage : [];
    needs(meta.keySpec === 'AES_256', KmsErrors.XksKeyInvalidConfigurationException, `The external key ${xksKeyId} is not a 256-bit AES key (keySpec ${String(meta.keySpec).slice(0, 32)}).`);
    needs(usage.includes('ENCRYPT') && usage.includes('DECRYPT'), KmsErrors.XksKeyInvalidConfigurationException, M.InvalidKeyUsageException);
    needs(meta.keyStatus === 'ENABLED', KmsErrors.XksKeyInvalidConfigurationException, M.InvalidStateException);
    const reservation = { keyId, customKeyStoreId: storeId, xksKeyId };
    needs(
      await this.store.reserveXksKey(reservation),
      KmsErrors.XksKeyAlreadyInUseException,
      `The external key ${xksKeyId} is already associated with a KMS key in custom key store ${storeId}.`,
    );
    return reservation;
  }

  release(keyId: string): Promise<void> {
    return this.store.releaseXksKey(keyId);
  }

  xksKeyOf(key: KeyRecord): Promise<XksKeyRecord | undefined> {
    return key.origin === 'EXTERNAL_KEY_STORE' ? this.store.getXksKey(key.keyId) : Promise.resolve(undefined);
  }

  /** The connection state of a key's store (DescribeKey's KeyState is Unavailable while not CONNECTED). */
  async connectionOf(key: KeyRecord): Promise<ConnectionState | undefined> {
    const x = await this.xksKeyOf(key);
    return x && (await this.store.getCustomKeyStore(x.customKeyStoreId))?.connectionState;
  }

  /** The external layer of double encryption: the proxy's Encrypt of `inner`, its CDIV checked. */
  async encrypt(key: KeyRecord, inner: Buffer, aad: Buffer, caller: XksCaller): Promise<XksLayer> {
    const { target, xks } = await this.#connected(key);
    const out = await this.#crypto(target, `keys/${xks.xksKeyId}/encrypt`, {
      requestMetadata: requestMetadata(caller, key.arn),
      plaintext: inner.toString('base64'),
      encryptionAlgorithm: 'AES_GCM',
      additionalAuthenticatedData: aad.toString('base64'),
      ciphertextDataIntegrityValueAlgorithm: 'SHA_256',
    });
    const field = (name: string) => (typeof out[name] === 'string' ? decodeBase64(out[name] as string) : undefined);
    const ciphertext = field('ciphertext');
    const iv = field('initializationVector');
    const tag = field('authenticationTag');
    const cdiv = field('ciphertextDataIntegrityValue');
    const metadata = out.ciphertextMetadata === undefined ? undefined : field('ciphertextMetadata');
    const valid =
      ciphertext && iv && tag && cdiv && ciphertext.length === inner.length && (iv.length === 12 || iv.length === 16) && tag.length === 16 &&
      (out.ciphertextMetadata === undefined || (metadata !== undefined && metadata.length <= 20));
    if (!valid) throw new AwsError(KmsErrors.KMSInvalidStateException, M.invalidResponse);
    // The spec: KMS computes the CDIV itself and fails the call when it differs.
    if (!ciphertextDataIntegrityValue({ aad, metadata, iv, ciphertext, tag }).equals(cdiv)) throw new AwsError(KmsErrors.KMSInvalidStateException, M.invalidResponse);
    return { ...(metadata && metadata.length > 0 ? { metadata } : {}), iv, tag, ciphertext };
  }

  /** The proxy's Decrypt of the external layer: the inner ciphertext. */
  async decrypt(key: KeyRecord, outer: XksLayer, aad: Buffer, caller: XksCaller): Promise<Buffer> {
    const { target, xks } = await this.#connected(key);
    const out = await this.#crypto(target, `keys/${xks.xksKeyId}/decrypt`, {
      requestMetadata: requestMetadata(caller, key.arn),
      encryptionAlgorithm: 'AES_GCM',
      ciphertext: outer.ciphertext.toString('base64'),
      ...(outer.metadata ? { ciphertextMetadata: outer.metadata.toString('base64') } : {}),
      initializationVector: outer.iv.toString('base64'),
      authenticationTag: outer.tag.toString('base64'),
      additionalAuthenticatedData: aad.toString('base64'),
    });
    const plaintext = typeof out.plaintext === 'string' ? decodeBase64(out.plaintext) : undefined;
    if (!plaintext || plaintext.length !== outer.ciphertext.length) throw new AwsError(KmsErrors.KMSInvalidStateException, M.invalidResponse);
    return plaintext;
  }

  /** The proxy call of a cryptographic operation: every failure is KMSInvalidStateException with the spec's message. */
  async #crypto(target: XksTarget, api: string, body: unknown): Promise<Record<string, unknown>> {
    try {
      return await this.client.call(target, api, body);
    } catch (err) {
      if (err instanceof XksCallError) throw new AwsError(KmsErrors.KMSInvalidStateException, messageOf(err.failure));
      throw err;
    }
  }

  async #connected(key: KeyRecord): Promise<{ target: XksTarget; xks: XksKeyRecord }> {
    const xks = await this.store.getXksKey(key.keyId);
    const s = xks && (await this.store.getCustomKeyStore(xks.customKeyStoreId));
    if (!xks || !s) throw new AwsError(KmsErrors.KMSInternalException, `The custom key store of ${key.arn} is missing.`);
    if (s.connectionState !== 'CONNECTED') throw new AwsError(KmsErrors.KMSInvalidStateException, `${key.arn} is unavailable. ${M.notConnected}`);
    return { target: await this.#target(s), xks };
  }

  async #target(s: Pick<CustomKeyStoreRecord, 'id' | 'region' | 'uriEndpoint' | 'uriPath' | 'accessKeyId' | 'secretWrapped'>): Promise<XksTarget> {
    let secret = this.#secrets.get(s.secretWrapped);
    if (!secret) {
      secret = await this.root.unwrap(Buffer.from(s.secretWrapped, 'base64'), secretAad(s.id, s.accessKeyId));
      if (this.#secrets.size > 256) this.#secrets.clear();
      this.#secrets.set(s.secretWrapped, secret);
    }
    return { uriEndpoint: s.uriEndpoint, uriPath: s.uriPath, accessKeyId: s.accessKeyId, secret, region: s.region };
  }

  /** GetHealthStatus: a well-formed answer with at least one external key manager not UNAVAILABLE, else `toError`'s exception. */
  async #health(target: XksTarget, caller: XksCaller, toError: (f: XksFailure) => ErrorSpec): Promise<void> {
    let failure: XksFailure | undefined;
    try {
      const h = await this.client.call(target, 'health', { requestMetadata: { kmsRequestId: caller.requestId, kmsOperation: caller.operation } });
      const fleet = Array.isArray(h.ekmFleetDetails) ? (h.ekmFleetDetails as { healthStatus?: unknown }[]) : [];
      const wellFormed = Number.isInteger(h.xksProxyFleetSize) && (h.xksProxyFleetSize as number) > 0 && fleet.length >= 1 && fleet.length <= 10;
      if (!wellFormed) failure = { kind: 'invalid-response' };
      else if (!fleet.some((e) => e?.healthStatus === 'ACTIVE' || e?.healthStatus === 'DEGRADED')) failure = { kind: 'proxy', errorName: 'InternalException' };
    } catch (err) {
      if (!(err instanceof XksCallError)) throw err;
      failure = err.failure;
    }
    if (failure) throw new HealthFailure(failure, toError(failure), messageOf(failure));
  }

  async #write<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw err instanceof CustomKeyStoreConflict ? conflictError(err.what) : err;
    }
  }
}

/** A failed health check: the AWS error of the operation that made it, and the failure (ConnectionErrorCode). */
class HealthFailure extends AwsError {
  constructor(
    readonly failure: XksFailure,
    spec: ErrorSpec,
    message: string,
  ) {
    super(spec, message);
  }
}

function conflictError(what: 'name' | 'uri'): AwsError {
  return what === 'name'
    ? new AwsError(KmsErrors.CustomKeyStoreNameInUseException, 'The specified custom key store name is already assigned to another custom key store in the account.')
    : new AwsError(KmsErrors.XksProxyUriInUseException, 'The combined XksProxyUriEndpoint and XksProxyUriPath is already used by another external key store in this account and Region.');
}

function secretAad(storeId: string, accessKeyId: string): Buffer {
  return Buffer.from(`strongroom:xks-proxy-secret:v1\0${storeId}\0${accessKeyId}`, 'utf8');
}

function requestMetadata(caller: XksCaller, keyArn?: string): Record<string, string> {
  return {
    awsPrincipalArn: caller.principalArn,
    kmsOperation: caller.operation,
    kmsRequestId: caller.requestId,
    ...(keyArn !== undefined ? { kmsKeyArn: keyArn } : {}),
    ...(caller.viaService !== undefined ? { kmsViaService: caller.viaService } : {}),
  };
}

/** The caller when a service inside Strongroom uses the key on its own behalf. */
export function internalCaller(operation: string): XksCaller {
  return { principalArn: 'AWS Internal', operation, requestId: randomUUID() };
}
