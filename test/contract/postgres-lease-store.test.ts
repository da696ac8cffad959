import { after, describe } from 'node:test';
import { PostgresDatabase } from '../../src/store/metadata/postgres/database.js';
import { PostgresLeaseStore } from '../../src/store/metadata/postgres/lease-store.js';
import { postgresCluster, postgresSkip } from '../helpers/postgres.js';
import { leaseStoreContract } from './lease-store.contract.js';

describe('PostgreSQL lease store', { skip: postgresSkip() }, () => {
  const opened: PostgresDatabase[] = [];
  after(async () => {
    for (const d of opened) await d.close();
  });
  // A fresh database per test; `another` is a second node (its own pool) on it.
  leaseStoreContract(async (clock) => {
    const url = await (await postgresCluster()).createDatabase();
    const here: PostgresDatabase[] = [];
    const openOne = async () => {
      const d = await PostgresDatabase.open(url);
      here.push(d);
      opened.push(d);
      return new PostgresLeaseStore(d, clock);
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
  });
});
