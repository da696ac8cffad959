import { after, describe } from 'node:test';
import { postgresSkip } from '../helpers/postgres.js';
import { closeAll, freshPostgresTrailStores } from './postgres-trail-stores.js';
import { trailDeliveryStoreContract } from './trail-delivery-store.contract.js';

after(closeAll);

describe('PostgreSQL trail-delivery store', { skip: postgresSkip() }, () => {
  trailDeliveryStoreContract(freshPostgresTrailStores);
});
