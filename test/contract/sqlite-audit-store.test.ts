import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe } from 'node:test';
import { AuditStore } from '../../src/store/metadata/audit-types.js';
import { SqliteAuditStore } from '../../src/store/metadata/sqlite/audit-store.js';
import { SqliteDatabase } from '../../src/store/metadata/sqlite/database.js';
import { auditStoreContract } from './audit-store.contract.js';
import { OpenFresh } from './reopenable.js';

/** A fresh data dir; reopen closes every database open on it first. */
function sqlite(options: { asyncDurability?: boolean }, opened: SqliteDatabase[]): OpenFresh<AuditStore> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sr-audit-'));
    const here: SqliteDatabase[] = [];
    const openOne = () => {
      const database = SqliteDatabase.inDataDir(dir, options);
      here.push(database);
      opened.push(database);
      return new SqliteAuditStore(database);
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
  ['SQLite audit store (synchronous=FULL)', {}],
  ['SQLite audit store (asyncDurability, as the server opens it)', { asyncDurability: true }],
] as const) {
  describe(title, () => {
    const opened: SqliteDatabase[] = [];
    after(() => {
      for (const d of opened) if (d.db.open) d.close();
    });
    auditStoreContract(sqlite(options, opened));
  });
}
