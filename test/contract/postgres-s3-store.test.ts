import { after, describe } from 'node:test';
import { PostgresDatabase } from '../../src/store/metadata/postgres/database.js';
import { PostgresS3Store } from '../../src/store/metadata/postgres/s3-store.js';
import { S3Store } from '../../src/store/metadata/s3-types.js';
import { postgresCluster, postgresSkip } from '../helpers/postgres.js';
import { OpenFresh } from './reopenable.js';
import { s3StoreContract } from './s3-store.contract.js';

const opened: PostgresDatabase[] = [];
after(async () => {
  for (const d of opened.splice(0)) await d.close();
});

/**
 * A fresh database per location. `another` is a second pool on it (another node); `reopen` closes every
 * pool open on it and opens a new one.
 */
const fresh: OpenFresh<S3Store> = async () => {
  const url = await (await postgresCluster()).createDatabase();
  const here: PostgresDatabase[] = [];
  const openOne = async () => {
    const db = await PostgresDatabase.open(url);
    here.push(db);
    opened.push(db);
    return new PostgresS3Store(db);
  };
  return {
    store: await openOne(),
    another: openOne,
    reopen: async () => {
      for (const d of here.splice(0)) {
        opened.splice(opened.indexOf(d), 1);
        await d.close();
      }
      return openOne();
    },
  };
};

describe('PostgreSQL S3 store', { skip: postgresSkip() }, () => {
  s3StoreContract(fresh);
});
