import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe } from 'node:test';
import { SqliteDatabase } from '../../src/store/metadata/sqlite/database.js';
import { SqliteLeaseStore } from '../../src/store/metadata/sqlite/lease-store.js';
import { leaseStoreContract } from './lease-store.contract.js';

describe('SQLite lease store', () => {
  const opened: SqliteDatabase[] = [];
  after(() => {
    for (const d of opened) if (d.db.open) d.close();
  });
  leaseStoreContract(async (clock) => {
    const dir = mkdtempSync(join(tmpdir(), 'sr-leases-'));
    const here: SqliteDatabase[] = [];
    const openOne = () => {
      const database = SqliteDatabase.inDataDir(dir, { asyncDurability: true });
      here.push(database);
      opened.push(database);
      return new SqliteLeaseStore(database, clock);
    };
    return {
      store: openOne(),
      another: async () => openOne(),
      reopen: async () => {
        for (const d of here.splice(0)) if (d.db.open) d.close();
        return openOne();
      },
    };
  });
});
