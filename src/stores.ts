import { IamIdentityPolicies } from './core/iam/identity-policies.js';
import { KmsGrantSource } from './core/kms/grant-source.js';
import { GrantSource } from './core/policy/sources.js';
import { GrantStore } from './store/metadata/grant-types.js';
import { IamStore } from './store/metadata/iam-types.js';
import { KeyCachingStore } from './store/metadata/cached-store.js';
import { BucketCachingStore } from './store/metadata/cached-s3-store.js';
import { CacheSettings } from './core/cache/cache.js';
import { InProcessInvalidation } from './core/cache/invalidation.js';
import { AuditStore } from './store/metadata/audit-types.js';
import { SqliteAuditStore } from './store/metadata/sqlite/audit-store.js';
import { SqliteDatabase } from './store/metadata/sqlite/database.js';
import { sqliteGrantStore } from './store/metadata/sqlite/grant-store.js';
import { SqliteIamStore } from './store/metadata/sqlite/iam-store.js';
import { SqliteMetadataStore } from './store/metadata/sqlite/sqlite-store.js';
import { SqliteS3Store } from './store/metadata/sqlite/s3-store.js';
import { SqliteTrailDeliveryStore } from './store/metadata/sqlite/trail-delivery-store.js';
import { SqliteTrailStore } from './store/metadata/sqlite/trail-store.js';
import { TrailStore } from './store/metadata/trail-types.js';
import { TrailDeliveryStore } from './core/audit/trail-delivery.js';
import { S3Store } from './store/metadata/s3-types.js';
import { MetadataStore } from './store/metadata/types.js';
import { Clock, systemClock } from './core/clock.js';
import { Leases } from './core/leases/leases.js';
import { SqliteLeaseStore } from './store/metadata/sqlite/lease-store.js';

/** Every store of a data dir, opened once: the server (app.ts) and offline commands (explain) share this. */
export interface Stores {
  readonly database: SqliteDatabase;
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
  /** CloudTrail trails, their delivery state and the digest signing keys. */
  readonly trails: TrailStore;
  /** What trail delivery remembers: positions, planned files, undigested log files, digest chains. */
  readonly trailDelivery: TrailDeliveryStore;
  /** Leases for work that must happen once across the processes and nodes sharing the database. */
  readonly leases: Leases;
  /** What every cache over these stores shares: the invalidation port writers publish on, and the TTL. */
  readonly cache: CacheSettings;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** The server's mode (see SqliteDatabase): commits made durable by `database.durable()`. */
  readonly asyncDurability?: boolean;
  /**
   * The caches' invalidation port (default: this process's own) and TTL backstop. Processes or nodes sharing
   * one database must share a port (PostgreSQL LISTEN/NOTIFY) to see each other's changes before the TTL.
   */
  readonly cache?: Partial<CacheSettings>;
  /** The leases' clock (default: the system's; tests inject a ManualClock). */
  readonly clock?: Clock;
}

/**
 * Opens the data dir's stores, the cached ones (key records, grants, IAM policy sets, buckets; credentials in
 * app.ts) behind one invalidation port, so every write that changes a cached thing reaches every cache of it.
 */
export function openStores(dataDir: string, options: StoreOptions = {}): Stores {
  const database = SqliteDatabase.inDataDir(dataDir, options.asyncDurability ? { asyncDurability: true } : {});
  const cache: CacheSettings = { ...options.cache, port: options.cache?.port ?? new InProcessInvalidation() };
  const metadata = new KeyCachingStore(new SqliteMetadataStore(database), cache);
  const iam = new SqliteIamStore(database);
  const grantStore = sqliteGrantStore(database, cache);
  return {
    database,
    metadata,
    iam,
    identityPolicies: new IamIdentityPolicies(iam, undefined, cache),
    grantStore,
    grants: new KmsGrantSource(grantStore),
    audit: new SqliteAuditStore(database),
    trails: new SqliteTrailStore(database),
    trailDelivery: new SqliteTrailDeliveryStore(database),
    s3: new BucketCachingStore(new SqliteS3Store(database), cache),
    leases: new SqliteLeaseStore(database, options.clock ?? systemClock),
    cache,
    close: () => metadata.close(),
  };
}
