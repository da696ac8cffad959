import { describe } from 'node:test';
import { SqliteAuditStore } from '../../src/store/metadata/sqlite/audit-store.js';
import { SqliteDatabase } from '../../src/store/metadata/sqlite/database.js';
import { SqliteTrailDeliveryStore } from '../../src/store/metadata/sqlite/trail-delivery-store.js';
import { SqliteTrailStore } from '../../src/store/metadata/sqlite/trail-store.js';
import { freshSqlite, SQLITE_MODES } from './fresh-sqlite.js';
import { trailDeliveryStoreContract } from './trail-delivery-store.contract.js';
import { trailStoreContract } from './trail-store.contract.js';
import { TrailStores } from './trail-stores.js';

const trailStores = (database: SqliteDatabase): TrailStores => ({
  trails: new SqliteTrailStore(database),
  delivery: new SqliteTrailDeliveryStore(database),
  audit: new SqliteAuditStore(database),
});

for (const [mode, options] of SQLITE_MODES) {
  describe(`SQLite trail store (${mode})`, () => {
    trailStoreContract(freshSqlite(trailStores, options));
  });
  describe(`SQLite trail-delivery store (${mode})`, () => {
    trailDeliveryStoreContract(freshSqlite(trailStores, options));
  });
}
