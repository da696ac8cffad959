import { describe } from 'node:test';
import { postgresSkip } from '../helpers/postgres.js';
import { freshPostgres } from './fresh-postgres.js';
import { postgresTrailStores } from './postgres-trail-stores.js';
import { trailStoreContract } from './trail-store.contract.js';

describe('PostgreSQL trail store', { skip: postgresSkip() }, () => {
  trailStoreContract(freshPostgres(postgresTrailStores));
});
