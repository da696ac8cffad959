import { describe } from 'node:test';
import { postgresSkip } from '../helpers/postgres.js';
import { freshPostgres } from './fresh-postgres.js';
import { postgresTrailStores } from './postgres-trail-stores.js';
import { trailDeliveryStoreContract } from './trail-delivery-store.contract.js';

describe('PostgreSQL trail-delivery store', { skip: postgresSkip() }, () => {
  trailDeliveryStoreContract(freshPostgres(postgresTrailStores));
});
