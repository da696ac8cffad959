import { describe } from 'node:test';
import { PostgresKeyringStore } from '../../src/store/metadata/postgres/keyring-store.js';
import { postgresSkip } from '../helpers/postgres.js';
import { freshPostgres } from './fresh-postgres.js';
import { keyringContract } from './keyring.contract.js';

describe('keyring on PostgreSQL', { skip: postgresSkip() }, () => {
  keyringContract(freshPostgres((database) => new PostgresKeyringStore(database)));
});
