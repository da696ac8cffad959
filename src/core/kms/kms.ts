import { Clock } from '../clock.js';
import { KeyWrapper } from '../crypto/root-of-trust/root-of-trust.js';
import { GrantStore } from '../../store/metadata/grant-types.js';
import { MetadataStore, keyIdOfRow } from '../../store/metadata/types.js';
import { Aliases } from './aliases.js';
import { AwsManagedKeys } from './aws-managed-keys.js';
import { KmsDeps } from './context.js';
import { Cryptography } from './cryptography.js';
import { Grants, UNWIRED_GRANT_STORE } from './grants.js';
import { InvalidationPort, TOPICS } from '../cache/invalidation.js';
import { Keys } from './keys.js';
import { Imports } from './imports/imports.js';
import { MultiRegionKeys } from './multi-region.js';
import { RegionSet } from '../identity/authenticator.js';
import { KeyLifecycleEvents, Lifecycle, TransitionClaims } from './lifecycle.js';
import { MaterialCache } from './material-cache.js';
import { Materials } from './materials.js';
import { KeyResolver } from './resolver.js';
import { AsymmetricEncryption } from './asymmetric-encryption.js';
import { KeyAgreement } from './key-agreement.js';
import { KeyEncapsulation } from './key-encapsulation.js';
import { KeyLastUsage } from './key-last-usage.js';
import { Macs } from './macs.js';
import { Signatures } from './signatures.js';
import { Tags } from './tags.js';
import { CustomKeyStores } from './custom-key-stores.js';
import { XksClient } from './xks/client.js';
import { CustomKeyStoreStore } from '../../store/metadata/custom-key-store-types.js';

export interface KmsOptions {
  /** Unwrapped key materials kept in memory. */
  readonly cacheCapacity?: number;
  /** Where grants live: `sqliteGrantStore(database)` (until it is given, grant operations fail). */
  readonly grants?: GrantStore;
  /** The grants-per-key quota (tests lower it; AWS: 50,000). */
  readonly maxGrantsPerKey?: number;
  /** Told of rotations and deletions before they happen (the audit log's AwsServiceEvent records). */
  readonly lifecycleEvents?: KeyLifecycleEvents;
  /** Claims that make each key's transition happen once across the processes and nodes sharing the database. */
  readonly transitionClaims?: TransitionClaims;
  /** Told when writing the keys' last uses fails (they are kept and written at the next flush). */
  readonly lastUsageFlushFailed?: (err: unknown) => void;
  /** Custom key stores (external key stores) and how their XKS proxies are reached (absent: not served). */
  readonly customKeyStores?: { readonly store: CustomKeyStoreStore; readonly client: XksClient };
  /**
   * The key cache's invalidation port: a key written anywhere (its imported material deleted or expired on
   * another node, above all) also drops this process's unwrapped materials of it, so none is kept in memory
   * after its deletion; they are unwrapped again from the store when still there.
   */
  readonly invalidation?: InvalidationPort;
  /** The Regions the deployment serves (STRONGROOM_REGIONS): where ReplicateKey may put a replica. Default: any. */
  readonly regions?: RegionSet;
}

/** The KMS domain, wired once per server. Services call these parts; none of them knows about HTTP. */
export class Kms {
  readonly keys: Keys;
  /** ReplicateKey, UpdatePrimaryRegion, DescribeKey's MultiRegionConfiguration. */
  readonly multiRegion: MultiRegionKeys;
  readonly resolver: KeyResolver;
  readonly crypto: Cryptography;
  /** GetPublicKey, Sign, Verify. */
  readonly signatures: Signatures;
  /** Encrypt and Decrypt with RSA ENCRYPT_DECRYPT keys (RSAES-OAEP). */
  readonly asymmetric: AsymmetricEncryption;
  /** GenerateMac, VerifyMac. */
  readonly macs: Macs;
  /** DeriveSharedSecret. */
  readonly keyAgreement: KeyAgreement;
  /** Encapsulate, Decapsulate (ML-KEM). */
  readonly encapsulation: KeyEncapsulation;
  /** GetParametersForImport, ImportKeyMaterial, DeleteImportedKeyMaterial. */
  readonly imports: Imports;
  readonly aliases: Aliases;
  readonly tags: Tags;
  readonly grants: Grants;
  readonly lifecycle: Lifecycle;
  /** alias/aws/<service> keys, created on first use by the service. */
  readonly awsManaged: AwsManagedKeys;
  /** Each key's last successful cryptographic use (GetKeyLastUsage). */
  readonly lastUsage: KeyLastUsage;
  /** CreateCustomKeyStore and friends, and the external layer of keys in external key stores. */
  readonly customKeyStores: CustomKeyStores | undefined;
  readonly deps: KmsDeps;

  constructor(store: MetadataStore, root: KeyWrapper, clock: Clock, options: KmsOptions = {}) {
    const materials = new Materials(store, root, new MaterialCache(options.cacheCapacity));
    // The port names key rows (types.ts#keyRowId); the cache holds a multi-Region key's shared materials by key id.
    options.invalidation?.subscribe(TOPICS.kmsKeys, (rowId) => (rowId === undefined ? materials.forgetAll() : materials.forget(keyIdOfRow(rowId))));
    this.deps = { store, root, clock, materials };
    this.lifecycle = new Lifecycle(this.deps, options.lifecycleEvents, options.transitionClaims);
    this.resolver = new KeyResolver(this.deps, this.lifecycle);
    this.keys = new Keys(this.deps, this.lifecycle);
    this.multiRegion = new MultiRegionKeys(this.deps, options.regions ?? '*');
    const cks = options.customKeyStores;
    this.customKeyStores = cks ? new CustomKeyStores(cks.store, root, cks.client, clock) : undefined;
    this.crypto = new Cryptography(this.deps, this.resolver, this.customKeyStores);
    this.signatures = new Signatures(this.deps);
    this.asymmetric = new AsymmetricEncryption(this.deps);
    this.macs = new Macs(this.deps);
    this.keyAgreement = new KeyAgreement(this.deps);
    this.encapsulation = new KeyEncapsulation(this.deps);
    this.imports = new Imports(this.deps);
    this.aliases = new Aliases(this.deps);
    this.awsManaged = new AwsManagedKeys(this.keys, this.aliases, (id) => store.getKey(id), options.transitionClaims);
    this.tags = new Tags(this.deps);
    this.lastUsage = new KeyLastUsage(store, clock, options.lastUsageFlushFailed);
    this.grants = new Grants(this.deps, options.grants ?? UNWIRED_GRANT_STORE, { maxGrantsPerKey: options.maxGrantsPerKey });
  }
}
