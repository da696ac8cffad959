import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe } from 'node:test';
import { SqliteDatabase } from '../../src/store/metadata/sqlite/database.js';
import { SqliteS3Store } from '../../src/store/metadata/sqlite/s3-store.js';
import { S3Store } from '../../src/store/metadata/s3-types.js';
import { OpenFresh } from './reopenable.js';
import { s3StoreContract } from './s3-store.contract.js';
import { crashContract } from './crash-contract.js';

/** A fresh data dir; reopen closes every database open on it first. */
function sqlite(options: { asyncDurability?: boolean }, opened: SqliteDatabase[]): OpenFresh<S3Store> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sr-s3-'));
    const here: SqliteDatabase[] = [];
    const openOne = () => {
      const database = SqliteDatabase.inDataDir(dir, options);
      here.push(database);
      opened.push(database);
      return new SqliteS3Store(database);
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
  ['SQLite S3 store (synchronous=FULL)', {}],
  ['SQLite S3 store (asyncDurability, as the server opens it)', { asyncDurability: true }],
] as const) {
  describe(title, () => {
    const opened: SqliteDatabase[] = [];
    after(() => {
      for (const d of opened) if (d.db.open) d.close();
    });
    s3StoreContract(sqlite(options, opened));
  });
}

describe('SQLite data dir killed mid-burst (S3 and audit stores, as the server opens them)', () => {
  crashContract({ module: new URL('./sqlite-location.js', import.meta.url).href, fresh: async () => mkdtempSync(join(tmpdir(), 'sr-crash-')) });
});
