import Database from 'better-sqlite3';
import { chmodSync, closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { MIGRATIONS } from './migrations.js';

export const SQLITE_FILE = 'strongroom.db';

/**
 * One SQLite database in WAL mode with synchronous=FULL (a write that returned is on disk), migrated on
 * open, with prepared statements compiled once per SQL text. Every SQLite-backed store shares it.
 */
export class SqliteDatabase {
  readonly db: Database.Database;
  readonly #stmts = new Map<string, Database.Statement>();

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.#migrate();
  }

  static inDataDir(dataDir: string): SqliteDatabase {
    const path = join(dataDir, SQLITE_FILE);
    // Owner-only, before SQLite opens it: its -wal and -shm files take the database file's mode.
    closeSync(openSync(path, 'a', 0o600));
    chmodSync(path, 0o600);
    return new SqliteDatabase(path);
  }

  stmt(sql: string): Database.Statement {
    let s = this.#stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.#stmts.set(sql, s);
    }
    return s;
  }

  /**
   * Runs `fn` in a transaction shared with every other `grouped` call of the same event-loop turn: one
   * commit — one fsync under synchronous=FULL — for all of them, instead of one each (concurrent S3 PUTs).
   * Each `fn` runs in its own savepoint, so one that throws is rolled back and rejected alone. The promise
   * settles once the shared transaction committed (durable) or failed (then every call of the group rejects).
   */
  grouped<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#group.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (this.#group.length === 1) setImmediate(() => this.#flushGroup());
    });
  }

  readonly #group: { fn: () => unknown; resolve: (v: unknown) => void; reject: (e: unknown) => void }[] = [];

  #flushGroup(): void {
    const group = this.#group.splice(0);
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      this.db.transaction(() => {
        for (const item of group) {
          try {
            outcomes.push({ ok: true, value: this.db.transaction(item.fn)() });
          } catch (error) {
            outcomes.push({ ok: false, error });
          }
        }
      })();
    } catch (error) {
      for (const item of group) item.reject(error);
      return;
    }
    group.forEach((item, i) => {
      const o = outcomes[i]!;
      if (o.ok) item.resolve(o.value);
      else item.reject(o.error);
    });
  }

  /** Runs `fn` in one transaction (all or nothing). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  #migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    for (let i = version; i < MIGRATIONS.length; i++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[i]!);
        this.db.pragma(`user_version = ${i + 1}`);
      })();
    }
  }
}
