import { describe } from 'node:test';
import { Clock } from '../../src/core/clock.js';
import { SqliteLeaseStore } from '../../src/store/metadata/sqlite/lease-store.js';
import { freshSqlite } from './fresh-sqlite.js';
import { leaseStoreContract } from './lease-store.contract.js';

describe('SQLite lease store', () => {
  leaseStoreContract(freshSqlite((database, clock: Clock) => new SqliteLeaseStore(database, clock), { asyncDurability: true }));
});
