import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe } from 'node:test';
import { SqliteDatabase } from '../../src/store/metadata/sqlite/database.js';
import { SqliteIamStore } from '../../src/store/metadata/sqlite/iam-store.js';
import { SqliteMetadataStore } from '../../src/store/metadata/sqlite/sqlite-store.js';
import { iamStoreContract } from './iam-store.contract.js';

describe('SQLite IAM store', () => {
  const opened: SqliteMetadataStore[] = [];
  after(async () => {
    for (const s of opened) await s.close();
  });
  iamStoreContract(async () => {
    const db = SqliteDatabase.inDataDir(mkdtempSync(join(tmpdir(), 'sr-iam-')));
    const metadata = new SqliteMetadataStore(db);
    opened.push(metadata);
    return { iam: new SqliteIamStore(db), metadata };
  });
});
