import { after, describe } from 'node:test';
import { postgresSkip } from '../helpers/postgres.js';
import { closeAll, freshPostgresTrailStores } from './postgres-trail-stores.js';
import { trailStoreContract } from './trail-store.contract.js';

after(closeAll);

describe('PostgreSQL trail store', { skip: postgresSkip() }, () => {
  trailStoreContract(freshPostgresTrailStores);
});
