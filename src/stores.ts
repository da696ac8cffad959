import { GrantSource, IdentityPolicySource, NO_GRANTS, NO_IDENTITY_POLICIES } from './core/policy/sources.js';
import { KeyCachingStore } from './store/metadata/cached-store.js';
import { SqliteDatabase } from './store/metadata/sqlite/database.js';
import { SqliteMetadataStore } from './store/metadata/sqlite/sqlite-store.js';
import { MetadataStore } from './store/metadata/types.js';

/** Every store of a data dir, opened once: the server (app.ts) and offline commands (explain) share this. */
export interface Stores {
  readonly database: SqliteDatabase;
  readonly metadata: MetadataStore;
  readonly identityPolicies: IdentityPolicySource;
  readonly grants: GrantSource;
  close(): Promise<void>;
}

export function openStores(dataDir: string): Stores {
  const database = SqliteDatabase.inDataDir(dataDir);
  const metadata = new KeyCachingStore(new SqliteMetadataStore(database));
  return {
    database,
    metadata,
    identityPolicies: NO_IDENTITY_POLICIES,
    grants: NO_GRANTS,
    close: () => metadata.close(),
  };
}
