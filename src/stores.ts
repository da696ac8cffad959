import { IamIdentityPolicies } from './core/iam/identity-policies.js';
import { KmsGrantSource } from './core/kms/grant-source.js';
import { GrantSource } from './core/policy/sources.js';
import { GrantStore } from './store/metadata/grant-types.js';
import { IamStore } from './store/metadata/iam-types.js';
import { KeyCachingStore } from './store/metadata/cached-store.js';
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
  close(): Promise<void>;
}

/** `asyncDurability`: the server's mode (see SqliteDatabase): commits made durable by `database.durable()`. */
export function openStores(dataDir: string, options: { asyncDurability?: boolean } = {}): Stores {
  const database = SqliteDatabase.inDataDir(dataDir, options);
  const metadata = new KeyCachingStore(new SqliteMetadataStore(database));
  const iam = new SqliteIamStore(database);
  const grantStore = sqliteGrantStore(database);
  return {
    database,
    metadata,
    iam,
    identityPolicies: new IamIdentityPolicies(iam),
    grantStore,
    grants: new KmsGrantSource(grantStore),
    audit: new SqliteAuditStore(database),
    s3: new SqliteS3Store(database),
    trails: new SqliteTrailStore(database),
    trailDelivery: new SqliteTrailDeliveryStore(database),
    close: () => metadata.close(),
  };
}
