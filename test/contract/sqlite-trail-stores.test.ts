import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe } from 'node:test';
import { SqliteAuditStore } from '../../src/store/metadata/sqlite/audit-store.js';
import { SqliteDatabase } from '../../src/store/metadata/sqlite/database.js';
import { SqliteTrailDeliveryStore } from '../../src/store/metadata/sqlite/trail-delivery-store.js';
import { SqliteTrailStore } from '../../src/store/metadata/sqlite/trail-store.js';
import { OpenFresh } from './reopenable.js';
import { trailDeliveryStoreContract } from './trail-delivery-store.contract.js';
import { trailStoreContract } from './trail-store.contract.js';
import { TrailStores } from './trail-stores.js';

/** A fresh data dir; reopen closes every database open on it first. */
function sqlite(options: { asyncDurability?: boolean }, opened: SqliteDatabase[]): OpenFresh<TrailStores> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sr-trails-'));
    const here: SqliteDatabase[] = [];
    const openOne = (): TrailStores => {
      const database = SqliteDatabase.inDataDir(dir, options);
      here.push(database);
      opened.push(database);
      return { trails: new SqliteTrailStore(database), delivery: new SqliteTrailDeliveryStore(database), audit: new SqliteAuditStore(database) };
    };
    return {
      store: openOne(),
      another: async () => openOne(),
      reopen: async () => {
        for (const d of here.splice(0)) if (d.db.open) d.close();
        return openOne();
      },
    };
  };
}

for (const [title, options] of [
  ['synchronous=FULL', {}],
  ['asyncDurability, as the server opens it', { asyncDurability: true }],
] as const) {
  describe(`SQLite trail store (${title})`, () => {
    const opened: SqliteDatabase[] = [];
    after(() => {
      for (const d of opened) if (d.db.open) d.close();
    });
    trailStoreContract(sqlite(options, opened));
  });
  describe(`SQLite trail-delivery store (${title})`, () => {
    const opened: SqliteDatabase[] = [];
    after(() => {
      for (const d of opened) if (d.db.open) d.close();
    });
    trailDeliveryStoreContract(sqlite(options, opened));
  });
}
