import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { SqliteDatabase } from '../../src/store/metadata/sqlite/database.js';
import { Reopenable } from './reopenable.js';

/**
 * The contract suites' SQLite locations: each call makes a fresh data dir and opens `makeStore` on it (extra
 * arguments, such as the lease store's clock, are passed through). `another` opens a second database on the
 * dir (another process); `reopen` closes every database open on the dir first. Call it inside a describe: the
 * databases still open are closed in that suite's after().
 */
export function freshSqlite<S, A extends unknown[] = []>(
  makeStore: (database: SqliteDatabase, ...args: A) => S,
  options: { asyncDurability?: boolean } = {},
): (...args: A) => Promise<Reopenable<S>> {
  const opened: SqliteDatabase[] = [];
  after(() => {
    for (const d of opened) if (d.db.open) d.close();
  });
  return async (...args) => {
    const dir = mkdtempSync(join(tmpdir(), 'sr-contract-'));
    const here: SqliteDatabase[] = [];
    const openOne = () => {
      const database = SqliteDatabase.inDataDir(dir, options);
      here.push(database);
      opened.push(database);
      return makeStore(database, ...args);
    };
    return {
      store: openOne(),
      another: async () => openOne(),
      reopen: async () => {
        for (const d of here.splice(0)) if (d.db.open) d.close();
        return openOne();
      },
    };
  };
}

/** The two ways the suites open SQLite: the default (synchronous=FULL) and as the server opens it. */
export const SQLITE_MODES = [
  ['synchronous=FULL', {}],
  ['asyncDurability, as the server opens it', { asyncDurability: true }],
] as const;
