import { SqliteAuditStore } from '../../src/store/metadata/sqlite/audit-store.js';
import { SqliteDatabase } from '../../src/store/metadata/sqlite/database.js';
import { SqliteS3Store } from '../../src/store/metadata/sqlite/s3-store.js';
import { LocationStores } from './crash-location.js';

/** A SQLite data dir's stores, opened as the server opens them (asyncDurability). */
export async function openLocation(dataDir: string): Promise<LocationStores> {
  const database = SqliteDatabase.inDataDir(dataDir, { asyncDurability: true });
  return {
    s3: new SqliteS3Store(database),
    audit: new SqliteAuditStore(database),
    close: async () => database.close(),
  };
}
