import Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';
import { FileHandle, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { MIGRATIONS } from './migrations.js';

export const SQLITE_FILE = 'strongroom.db';

/**
 * One SQLite database in WAL mode, migrated on open, with prepared statements compiled once per SQL text.
 * Every SQLite-backed store shares it.
 *
 * Durability. By default synchronous=FULL: a commit that returned is on disk (SQLite fsyncs the WAL in the
 * commit — on the event loop, since better-sqlite3 is synchronous). The server opens it with
 * `asyncDurability`: synchronous=NORMAL, so a commit only writes the WAL, and `durable()` then fsyncs the
 * WAL file on the thread pool, one fsync for every commit made before it started. That is the very sync
 * FULL performs at commit (https://www.sqlite.org/pragma.html#pragma_synchronous: in WAL mode FULL syncs
 * the WAL after each commit; NORMAL leaves it to checkpoints), moved off the event loop: whoever must not
 * answer before its write is durable awaits `durable()` (the audit log does for every call, so every
 * answered write is durable, its own commit having come first in the WAL).
 */
/** How long a writer waits for another connection's write lock before failing with SQLITE_BUSY. */
const BUSY_WAIT_MS = 5000;

export class SqliteDatabase {
  readonly db: Database.Database;
  /** The database file. */
  readonly path: string;
  readonly #stmts = new Map<string, Database.Statement>();
  readonly #walPath: string;
  readonly #asyncDurability: boolean;

  constructor(path: string, options: { asyncDurability?: boolean } = {}) {
    this.path = path;
    this.#walPath = `${path}-wal`;
    this.#asyncDurability = options.asyncDurability ?? false;
    this.db = new Database(path);
    // First: another process opening the same file at the same time (switching it to WAL, migrating it) makes
    // this one wait instead of failing with SQLITE_BUSY.
    this.db.pragma(`busy_timeout = ${BUSY_WAIT_MS}`);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(this.#asyncDurability ? 'synchronous = NORMAL' : 'synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.#migrate();
  }

  static inDataDir(dataDir: string, options: { asyncDurability?: boolean } = {}): SqliteDatabase {
    const path = join(dataDir, SQLITE_FILE);
    // Owner-only, before SQLite opens it: its -wal and -shm files take the database file's mode.
    closeSync(openSync(path, 'a', 0o600));
    chmodSync(path, 0o600);
    return new SqliteDatabase(path, options);
  }

  /**
   * Resolves once every commit made before the call is on disk (a no-op under synchronous=FULL, where
   * each commit synced itself). Concurrent callers share fsyncs: one in flight, at most one queued behind it.
   */
  durable(): Promise<void> {
    if (!this.#asyncDurability) return Promise.resolve();
    if (!this.#syncing) {
      this.#syncing = this.#syncWal().finally(() => {
        this.#syncing = undefined;
      });
      return this.#syncing;
    }
    // A sync is running, but it may have started before this caller's commit: wait for the next one.
    this.#queued ??= this.#syncing.then(
      () => this.#startQueued(),
      () => this.#startQueued(),
    );
    return this.#queued;
  }

  #syncing: Promise<void> | undefined;
  #queued: Promise<void> | undefined;
  #wal: FileHandle | undefined;

  #startQueued(): Promise<void> {
    this.#queued = undefined;
    return this.durable();
  }

  async #syncWal(): Promise<void> {
    if (!this.#wal) {
      if (!existsSync(this.#walPath)) return; // nothing written yet
      this.#wal = await open(this.#walPath, 'r');
      // The WAL file's own directory entry, once: a fresh -wal file must survive a crash too.
      const dir = await open(dirname(this.#walPath), 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    }
    await this.#wal.datasync();
  }

  /** Closes the database (SQLite checkpoints and syncs on close). */
  close(): void {
    void this.#wal?.close().catch(() => undefined);
    this.#wal = undefined;
    this.db.close();
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
   * settles once the shared transaction committed and is durable (`durable()`), or failed (then every call
   * of the group rejects). `durable: false`: settle at commit — for writes whose durability a later
   * `durable()` provides (the WAL is written in order, so one sync covers every commit before it).
   */
  grouped<T>(fn: () => T, options: { durable?: boolean } = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#group.push({ fn, resolve: resolve as (v: unknown) => void, reject, durable: options.durable ?? true });
      if (this.#group.length === 1) setImmediate(() => this.#flushGroup());
    });
  }

  readonly #group: { fn: () => unknown; resolve: (v: unknown) => void; reject: (e: unknown) => void; durable: boolean }[] = [];

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
      }).immediate();
    } catch (error) {
      for (const item of group) item.reject(error);
      return;
    }
    const settle = () =>
      group.forEach((item, i) => {
        const o = outcomes[i]!;
        if (o.ok) item.resolve(o.value);
        else item.reject(o.error);
      });
    if (!group.some((item) => item.durable)) {
      settle();
      return;
    }
    this.durable().then(settle, (error: unknown) => {
      for (const item of group) item.reject(error);
    });
  }

  /**
   * Runs `fn` in one transaction (all or nothing). BEGIN IMMEDIATE: the write lock is taken first, waiting
   * (busy_timeout) for another process's writer. A deferred transaction reads first and then upgrades to a
   * writer, which SQLite refuses at once (SQLITE_BUSY, or SQLITE_BUSY_SNAPSHOT when another process committed
   * since its read: https://www.sqlite.org/lang_transaction.html#deferred_immediate_and_exclusive_transactions),
   * so two processes on one data dir failed each other's audit commits and read-then-write changes.
   */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /**
   * Like transaction(), for a hot writer that other processes on the file (`--workers`) write beside: when
   * another connection holds the write lock, this one does not wait in SQLite's busy handler — which sleeps
   * 1, 2, 5 … ms with the event loop blocked, stalling every request of this process — but yields to the event
   * loop and tries again (after 0.2 ms, doubling up to 5 ms), for up to BUSY_WAIT_MS in all like busy_timeout.
   * `fn` runs only once the lock is held.
   */
  async transactionYielding<T>(fn: () => T): Promise<T> {
    const started = Date.now();
    for (let delayMs = 0.2; ; delayMs = Math.min(delayMs * 2, 5)) {
      // Cached statements: db.pragma() would compile its statement again on every append.
      this.stmt('PRAGMA busy_timeout = 0').get();
      try {
        return this.db.transaction(fn).immediate();
      } catch (err) {
        if ((err as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() - started >= BUSY_WAIT_MS) throw err;
      } finally {
        this.stmt(`PRAGMA busy_timeout = ${BUSY_WAIT_MS}`).get();
      }
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }

  /** One migration per transaction, the version read under the write lock: two processes opening a new data dir at once migrate it once. */
  #migrate(): void {
    for (;;) {
      const done = this.db.transaction(() => {
        const version = this.db.pragma('user_version', { simple: true }) as number;
        if (version >= MIGRATIONS.length) return true;
        this.db.exec(MIGRATIONS[version]!);
        this.db.pragma(`user_version = ${version + 1}`);
        return false;
      }).immediate();
      if (done) return;
    }
  }
}
