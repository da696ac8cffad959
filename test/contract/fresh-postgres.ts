import { after } from 'node:test';
import { PostgresDatabase } from '../../src/store/metadata/postgres/database.js';
import { postgresCluster } from '../helpers/postgres.js';
import { Reopenable } from './reopenable.js';

/**
 * The contract suites' PostgreSQL locations: each call creates a fresh database and opens `makeStore` on a
 * pool of its own (extra arguments, such as the lease store's clock, are passed through). `another` is a
 * second pool on it (another node); `reopen` closes every pool open on it and opens a new one. Call it inside
 * a describe: the pools still open are closed in that suite's after().
 */
export function freshPostgres<S, A extends unknown[] = []>(
  makeStore: (database: PostgresDatabase, ...args: A) => S,
): (...args: A) => Promise<Reopenable<S>> {
  const opened: PostgresDatabase[] = [];
  after(async () => {
    for (const d of opened.splice(0)) await d.close();
  });
  return async (...args) => {
    const url = await (await postgresCluster()).createDatabase();
    const here: PostgresDatabase[] = [];
    const openOne = async () => {
      const database = await PostgresDatabase.open(url);
      here.push(database);
      opened.push(database);
      return makeStore(database, ...args);
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
}
