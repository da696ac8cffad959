import { describe } from 'node:test';
import { SqliteVolumeStore } from '../../src/store/metadata/sqlite/volume-store.js';
import { freshSqlite } from './fresh-sqlite.js';
import { volumeStoreContract } from './volume-store.contract.js';

describe('SQLite volume store', () => {
  volumeStoreContract(freshSqlite((database) => new SqliteVolumeStore(database), { asyncDurability: true }));
});
