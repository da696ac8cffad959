import { describe } from 'node:test';
import { SqliteCustomKeyStoreStore } from '../../src/store/metadata/sqlite/custom-key-store-store.js';
import { SqliteMetadataStore } from '../../src/store/metadata/sqlite/sqlite-store.js';
import { customKeyStoreStoreContract } from './custom-key-store-store.contract.js';
import { freshSqlite } from './fresh-sqlite.js';

describe('SQLite custom key store store', () => {
  customKeyStoreStoreContract(freshSqlite((database) => ({ stores: new SqliteCustomKeyStoreStore(database), metadata: new SqliteMetadataStore(database) })));
});
