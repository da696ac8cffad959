import { after, describe } from 'node:test';
import { PostgresMetadataStore } from '../../src/store/metadata/postgres/postgres-store.js';
import { postgresCluster, postgresSkip } from '../helpers/postgres.js';
import { metadataStoreContract } from './metadata-store.contract.js';

describe('PostgreSQL metadata store', { skip: postgresSkip() }, () => {
  const opened: PostgresMetadataStore[] = [];
  after(async () => {
    for (const s of opened) await s.close();
  });
  // A fresh database per store, as the SQLite suite takes a fresh data dir.
  metadataStoreContract(async () => {
    const s = await PostgresMetadataStore.open(await (await postgresCluster()).createDatabase());
    opened.push(s);
    return s;
  });
});
