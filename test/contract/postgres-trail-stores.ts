import { PostgresAuditStore } from '../../src/store/metadata/postgres/audit-store.js';
import { PostgresDatabase } from '../../src/store/metadata/postgres/database.js';
import { PostgresTrailDeliveryStore } from '../../src/store/metadata/postgres/trail-delivery-store.js';
import { PostgresTrailStore } from '../../src/store/metadata/postgres/trail-store.js';
import { postgresCluster } from '../helpers/postgres.js';
import { OpenFresh } from './reopenable.js';
import { TrailStores } from './trail-stores.js';

const opened: PostgresDatabase[] = [];

/** Closes every pool the tests opened (each test file's after()). */
export async function closeAll(): Promise<void> {
  for (const d of opened.splice(0)) await d.close();
}

/**
 * A fresh database per location. `another` is a second pool on it (another node); `reopen` closes every
 * pool open on it and opens a new one.
 */
export const freshPostgresTrailStores: OpenFresh<TrailStores> = async () => {
  const url = await (await postgresCluster()).createDatabase();
  const here: PostgresDatabase[] = [];
  const openOne = async (): Promise<TrailStores> => {
    const db = await PostgresDatabase.open(url);
    here.push(db);
    opened.push(db);
    return { trails: new PostgresTrailStore(db), delivery: new PostgresTrailDeliveryStore(db), audit: new PostgresAuditStore(db) };
  };
  return {
    store: await openOne(),
    another: openOne,
    reopen: async () => {
      for (const d of here.splice(0)) {
        opened.splice(opened.indexOf(d), 1);
        await d.close();
      }
      return openOne();
    },
  };
};
