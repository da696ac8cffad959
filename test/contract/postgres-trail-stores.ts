import { PostgresAuditStore } from '../../src/store/metadata/postgres/audit-store.js';
import { PostgresDatabase } from '../../src/store/metadata/postgres/database.js';
import { PostgresTrailDeliveryStore } from '../../src/store/metadata/postgres/trail-delivery-store.js';
import { PostgresTrailStore } from '../../src/store/metadata/postgres/trail-store.js';
import { TrailStores } from './trail-stores.js';

/** The trail stores of one node (pool), with the audit store delivery reads from. */
export const postgresTrailStores = (database: PostgresDatabase): TrailStores => ({
  trails: new PostgresTrailStore(database),
  delivery: new PostgresTrailDeliveryStore(database),
  audit: new PostgresAuditStore(database),
});
