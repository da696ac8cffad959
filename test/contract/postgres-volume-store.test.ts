import { describe } from 'node:test';
import { PostgresVolumeStore } from '../../src/store/metadata/postgres/volume-store.js';
import { postgresSkip } from '../helpers/postgres.js';
import { freshPostgres } from './fresh-postgres.js';
import { volumeStoreContract } from './volume-store.contract.js';

describe('PostgreSQL volume store', { skip: postgresSkip() }, () => {
  volumeStoreContract(freshPostgres((database) => new PostgresVolumeStore(database)));
});
