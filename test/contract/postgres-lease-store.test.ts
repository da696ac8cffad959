import { describe } from 'node:test';
import { Clock } from '../../src/core/clock.js';
import { PostgresLeaseStore } from '../../src/store/metadata/postgres/lease-store.js';
import { postgresSkip } from '../helpers/postgres.js';
import { freshPostgres } from './fresh-postgres.js';
import { leaseStoreContract } from './lease-store.contract.js';

describe('PostgreSQL lease store', { skip: postgresSkip() }, () => {
  // A fresh database per test; `another` is a second node (its own pool) on it.
  leaseStoreContract(freshPostgres((database, clock: Clock) => new PostgresLeaseStore(database, clock)));
});
