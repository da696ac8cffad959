import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe } from 'node:test';
import { SqliteMetadataStore } from '../../src/store/metadata/sqlite/sqlite-store.js';
import { metadataStoreContract } from './metadata-store.contract.js';

describe('SQLite metadata store', () => {
  const opened: SqliteMetadataStore[] = [];
  after(async () => {
    for (const s of opened) await s.close();
  });
  metadataStoreContract(async () => {
    const s = SqliteMetadataStore.inDataDir(mkdtempSync(join(tmpdir(), 'sr-sqlite-')));
    opened.push(s);
    return s;
  });
});
