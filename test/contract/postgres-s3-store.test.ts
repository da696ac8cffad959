import { describe } from 'node:test';
import { PostgresS3Store } from '../../src/store/metadata/postgres/s3-store.js';
import { postgresSkip } from '../helpers/postgres.js';
import { freshPostgres } from './fresh-postgres.js';
import { s3StoreContract } from './s3-store.contract.js';

describe('PostgreSQL S3 store', { skip: postgresSkip() }, () => {
  s3StoreContract(freshPostgres((database) => new PostgresS3Store(database)));
});
