import { describe } from 'node:test';
import { PostgresCustomKeyStoreStore } from '../../src/store/metadata/postgres/custom-key-store-store.js';
import { PostgresMetadataStore } from '../../src/store/metadata/postgres/postgres-store.js';
import { postgresSkip } from '../helpers/postgres.js';
import { customKeyStoreStoreContract } from './custom-key-store-store.contract.js';
import { freshPostgres } from './fresh-postgres.js';

describe('PostgreSQL custom key store store', { skip: postgresSkip() }, () => {
  customKeyStoreStoreContract(freshPostgres((database) => ({ stores: new PostgresCustomKeyStoreStore(database), metadata: new PostgresMetadataStore(database) })));
});
