import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'node:test';
import { SqliteS3Store } from '../../src/store/metadata/sqlite/s3-store.js';
import { crashContract } from './crash-contract.js';
import { freshSqlite, SQLITE_MODES } from './fresh-sqlite.js';
import { s3StoreContract } from './s3-store.contract.js';

for (const [mode, options] of SQLITE_MODES) {
  describe(`SQLite S3 store (${mode})`, () => {
    s3StoreContract(freshSqlite((database) => new SqliteS3Store(database), options));
  });
}

describe('SQLite data dir killed mid-burst (S3 and audit stores, as the server opens them)', () => {
  crashContract({ module: new URL('./sqlite-location.js', import.meta.url).href, fresh: async () => mkdtempSync(join(tmpdir(), 'sr-crash-')) });
});
