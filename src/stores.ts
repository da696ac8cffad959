import { IamIdentityPolicies } from './core/iam/identity-policies.js';
import { KmsGrantSource } from './core/kms/grant-source.js';
import { GrantSource } from './core/policy/sources.js';
import { GrantStore } from './store/metadata/grant-types.js';
import { IamStore } from './store/metadata/iam-types.js';
import { KeyCachingStore } from './store/metadata/cached-store.js';
import { BucketCachingStore } from './store/metadata/cached-s3-store.js';
import { CacheSettings } from './core/cache/cache.js';
import { InvalidationPort } from './core/cache/invalidation.js';
import { InvalidationLog, SILENT_LOG } from './core/cache/shared-invalidation.js';
import { AuditStore } from './store/metadata/audit-types.js';
import { TrailStore } from './store/metadata/trail-types.js';
import { TrailDeliveryStore } from './core/audit/trail-delivery.js';
import { S3Store } from './store/metadata/s3-types.js';
import { VolumeStore } from './store/metadata/volume-types.js';
import { KeyringStore } from './store/metadata/keyring-types.js';
import { CustomKeyStoreStore } from './store/metadata/custom-key-store-types.js';
import { MetadataStore } from './store/metadata/types.js';
import { Clock, systemClock } from './core/clock.js';
import { Leases } from './core/leases/leases.js';
import { BlobStore } from './store/blob/blob-store.js';
import { TieredBlobStore } from './store/blob/tiered-blob-store.js';
// The composition root: the one place outside src/store/<backend>/ that names a backend.
import { SqliteAuditStore } from './store/metadata/sqlite/audit-store.js';
import { SqliteDatabase } from './store/metadata/sqlite/database.js';
import { SqliteGrantStore } from './store/metadata/sqlite/grant-store.js';
import { SqliteIamStore } from './store/metadata/sqlite/iam-store.js';
import { SqliteInvalidationPort } from './store/metadata/sqlite/invalidation-port.js';
import { SqliteLeaseStore } from './store/metadata/sqlite/lease-store.js';
import { SqliteMetadataStore } from './store/metadata/sqlite/sqlite-store.js';
import { SqliteS3Store } from './store/metadata/sqlite/s3-store.js';
import { SqliteVolumeStore } from './store/metadata/sqlite/volume-store.js';
import { SqliteKeyringStore } from './store/metadata/sqlite/keyring-store.js';
import { SqliteCustomKeyStoreStore } from './store/metadata/sqlite/custom-key-store-store.js';
import { SqliteTrailDeliveryStore } from './store/metadata/sqlite/trail-delivery-store.js';
import { SqliteTrailStore } from './store/metadata/sqlite/trail-store.js';
import { SqliteBlobStore } from './store/blob/sqlite/sqlite-blob-store.js';
import { FsBlobStore } from './store/blob/fs/fs-blob-store.js';
import { PostgresAuditStore } from './store/metadata/postgres/audit-store.js';
import { PostgresDatabase } from './store/metadata/postgres/database.js';
import { PostgresGrantStore } from './store/metadata/postgres/grant-store.js';
import { PostgresIamStore } from './store/metadata/postgres/iam-store.js';
import { PostgresInvalidationPort } from './store/metadata/postgres/invalidation-port.js';
import { PostgresLeaseStore } from './store/metadata/postgres/lease-store.js';
import { PostgresMetadataStore } from './store/metadata/postgres/postgres-store.js';
import { PostgresS3Store } from './store/metadata/postgres/s3-store.js';
import { PostgresVolumeStore } from './store/metadata/postgres/volume-store.js';
import { PostgresKeyringStore } from './store/metadata/postgres/keyring-store.js';
import { PostgresCustomKeyStoreStore } from './store/metadata/postgres/custom-key-store-store.js';
import { PostgresTrailDeliveryStore } from './store/metadata/postgres/trail-delivery-store.js';
import { PostgresTrailStore } from './store/metadata/postgres/trail-store.js';
import { PostgresBlobStore } from './store/blob/postgres/postgres-blob-store.js';
import { GrantCachingStore } from './store/metadata/cached-grant-store.js';

/** Sealed bodies up to this size are kept in the SQLite database; the rest in files of the data dir. */
const SMALL_BLOB_MAX_BYTES = 128 * 1024;

/** Where a deployment's state is: SQLite in the data dir, or the PostgreSQL database at `databaseUrl`. */
export interface StoreLocation {
  readonly dataDir: string;
  /** postgres://USER:PASS@HOST:PORT/DB (`--database-url`); absent: SQLite in `dataDir`. */
  readonly databaseUrl?: string;
}

/** Every store of a deployment, opened once: the server (app.ts) and the offline commands share this. */
export interface Stores {
  readonly backend: 'sqlite' | 'postgres';
  /** The database as messages name it (a path, or a URL without its password). */
  readonly description: string;
  readonly metadata: MetadataStore;
  /** IAM users, groups, roles, policies and STS sessions. */
  readonly iam: IamStore;
  /** The callers' IAM policies (an IdentityPolicySource), over `iam`. */
  readonly identityPolicies: IamIdentityPolicies;
  /** KMS grants, behind the authorization-path cache: Kms writes through it, `grants` reads through it. */
  readonly grantStore: GrantStore;
  readonly grants: GrantSource;
  /** The audit log: where records are committed, and the LookupEvents index. */
  readonly audit: AuditStore;
  /** S3 buckets, object versions and multipart uploads (bodies are in the blob store). */
  readonly s3: S3Store;
  /** EBS-style volumes, snapshots and their chunk maps (chunk contents are in the blob store). */
  readonly volumes: VolumeStore;
  /** KMS custom key stores (external key stores) and their keys' external key ids; connection state included. */
  readonly customKeyStores: CustomKeyStoreStore;
  /** CloudTrail trails, their delivery state and the digest signing keys. */
  readonly trails: TrailStore;
  /** What trail delivery remembers: positions, planned files, undigested log files, digest chains. */
  readonly trailDelivery: TrailDeliveryStore;
  /** Leases for work that must happen once across the processes and nodes sharing the database. */
  readonly leases: Leases;
  /** The keyring, wrapped by the root of trust (src/core/crypto/root-of-trust/keyring.ts). */
  readonly keyring: KeyringStore;
  /** What every cache over these stores shares: the invalidation port writers publish on, and the TTL. */
  readonly cache: CacheSettings;
  /** Where sealed object bodies go (opened on first call: offline commands that need none make nothing). */
  blobs(): Promise<BlobStore>;
  /** Resolves once every write committed so far is durable (SQLite's deferred fsync; PostgreSQL: at once). */
  durable(): Promise<void>;
  /** Whether the database answered the last statement that reached a verdict (SQLite, in the process: always). */
  reachable(): boolean;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** SQLite only: commits are made durable by `durable()` (the server's mode; see SqliteDatabase). */
  readonly asyncDurability?: boolean;
  /**
   * The caches' invalidation port and TTL backstop. Default: the backend's shared port (a table SQLite's
   * processes poll; PostgreSQL LISTEN/NOTIFY), so that every process or node on the database — and offline
   * commands writing to it — invalidate each other's caches. Tests may connect apps with a port of their own.
   */
  readonly cache?: Partial<CacheSettings>;
  /** Where the shared port reports that invalidations stopped or resumed reaching other processes. */
  readonly log?: InvalidationLog;
  /** The leases' clock (default: the system's; tests inject a ManualClock). */
  readonly clock?: Clock;
}

/**
 * Opens the deployment's stores on its backend, the cached ones (key records, grants, IAM policy sets,
 * buckets; credentials in app.ts) behind one invalidation port, so every write that changes a cached thing
 * reaches every cache of it, in every process.
 */
export async function openStores(location: StoreLocation, options: StoreOptions = {}): Promise<Stores> {
  return location.databaseUrl !== undefined ? openPostgres(location.databaseUrl, options) : openSqlite(location.dataDir, options);
}

/** A PostgreSQL URL as messages may show it: without its password. */
export function describeDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return 'the configured database URL (not a valid URL)';
  }
}

async function openSqlite(dataDir: string, options: StoreOptions): Promise<Stores> {
  const database = SqliteDatabase.inDataDir(dataDir, options.asyncDurability ? { asyncDurability: true } : {});
  const sharedPort = options.cache?.port ? undefined : new SqliteInvalidationPort(database, { log: options.log ?? SILENT_LOG });
  let blobs: Promise<BlobStore> | undefined;
  return assemble({
    backend: 'sqlite',
    description: database.path,
    port: sharedPort,
    options,
    metadata: new SqliteMetadataStore(database),
    iam: new SqliteIamStore(database),
    grants: new SqliteGrantStore(database),
    audit: new SqliteAuditStore(database),
    trails: new SqliteTrailStore(database),
    trailDelivery: new SqliteTrailDeliveryStore(database),
    s3: new SqliteS3Store(database),
    volumes: new SqliteVolumeStore(database),
    keyring: new SqliteKeyringStore(database),
    customKeyStores: new SqliteCustomKeyStoreStore(database),
    leases: new SqliteLeaseStore(database, options.clock ?? systemClock),
    blobs: () =>
      (blobs ??= FsBlobStore.open(dataDir).then((files) => new TieredBlobStore(new SqliteBlobStore(database, SMALL_BLOB_MAX_BYTES), files))),
    durable: () => database.durable(),
    reachable: () => true,
    close: async () => {
      sharedPort?.close();
      database.close();
    },
  });
}

async function openPostgres(url: string, options: StoreOptions): Promise<Stores> {
  const database = await PostgresDatabase.open(url);
  let sharedPort: PostgresInvalidationPort | undefined;
  try {
    sharedPort = options.cache?.port ? undefined : await PostgresInvalidationPort.start(url, database, { log: options.log ?? SILENT_LOG });
  } catch (err) {
    await database.close();
    throw err;
  }
  const blobs = new PostgresBlobStore(database);
  return assemble({
    backend: 'postgres',
    description: describeDatabaseUrl(url),
    port: sharedPort,
    options,
    metadata: new PostgresMetadataStore(database),
    iam: new PostgresIamStore(database),
    grants: new PostgresGrantStore(database),
    audit: new PostgresAuditStore(database),
    trails: new PostgresTrailStore(database),
    trailDelivery: new PostgresTrailDeliveryStore(database),
    s3: new PostgresS3Store(database),
    volumes: new PostgresVolumeStore(database),
    keyring: new PostgresKeyringStore(database),
    customKeyStores: new PostgresCustomKeyStoreStore(database),
    leases: new PostgresLeaseStore(database, options.clock ?? systemClock),
    blobs: async () => blobs,
    durable: async () => undefined, // a statement that returned is committed (synchronous_commit on)
    reachable: () => database.reachable,
    close: async () => {
      await sharedPort?.close();
      await database.close();
    },
  });
}

/**
 * What a backend opens: its own stores as Stores holds them, uncached (the caches and the sources over them are
 * assemble's, the same for every backend), its grant store, and its shared invalidation port.
 */
type BackendStores = Omit<Stores, 'identityPolicies' | 'grantStore' | 'grants' | 'cache'> & {
  /** The backend's shared port, when the options name none. */
  readonly port: InvalidationPort | undefined;
  readonly options: StoreOptions;
  readonly grants: GrantStore;
};

/** The caches over one backend's stores, and the sources built on them: the same for every backend. */
function assemble(b: BackendStores): Stores {
  const cache: CacheSettings = { ...b.options.cache, port: b.options.cache?.port ?? b.port! };
  const grantStore = new GrantCachingStore(b.grants, cache);
  return {
    backend: b.backend,
    description: b.description,
    metadata: new KeyCachingStore(b.metadata, cache),
    iam: b.iam,
    identityPolicies: new IamIdentityPolicies(b.iam, undefined, cache),
    grantStore,
    grants: new KmsGrantSource(grantStore),
    audit: b.audit,
    trails: b.trails,
    trailDelivery: b.trailDelivery,
    s3: new BucketCachingStore(b.s3, cache),
    volumes: b.volumes,
    customKeyStores: b.customKeyStores,
    leases: b.leases,
    keyring: b.keyring,
    cache,
    blobs: b.blobs,
    durable: b.durable,
    reachable: b.reachable,
    close: b.close,
  };
}
