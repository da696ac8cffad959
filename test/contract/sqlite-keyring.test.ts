import { describe } from 'node:test';
import { SqliteKeyringStore } from '../../src/store/metadata/sqlite/keyring-store.js';
import { freshSqlite } from './fresh-sqlite.js';
import { keyringContract } from './keyring.contract.js';

describe('keyring on SQLite', () => {
  keyringContract(freshSqlite((database) => new SqliteKeyringStore(database), { asyncDurability: true }));
});
