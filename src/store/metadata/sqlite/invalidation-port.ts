import { InvalidationHandler, InvalidationPort } from '../../../core/cache/invalidation.js';
import { InvalidationLog, LocalSubscribers, SILENT_LOG } from '../../../core/cache/shared-invalidation.js';
import { SqliteDatabase } from './database.js';

export interface SqliteInvalidationOptions {
  /** How often to look for other processes' publications (default 150 ms): the bound on their delay. */
  readonly pollMs?: number;
  /** How long a publication stays in the table (default 60 s): longer than any reader takes to poll. */
  readonly retainMs?: number;
  /** Clock for `at` and pruning (ms since the epoch). */
  readonly now?: () => number;
  readonly log?: InvalidationLog;
}

/** How often a publisher prunes, at most (a DELETE in its transaction). */
const PRUNE_EVERY_MS = 10_000;

interface Row {
  id: number;
  topic: string;
  key: string | null;
  origin: string;
}

/**
 * The invalidation port of several processes on one SQLite data dir (`--workers N` on SQLite: there is no
 * LISTEN/NOTIFY). `publish` tells this process's subscribers at once and inserts (topic, key) into
 * `invalidations` in its own short BEGIN IMMEDIATE transaction (as every writer of the shared file); each port
 * polls every `pollMs` for rows after the last id it saw and delivers the other processes' rows. A poll with
 * nothing new costs one `PRAGMA data_version`, which changes only when another connection committed
 * (https://www.sqlite.org/pragma.html#pragma_data_version). Publishers prune rows older than `retainMs`; a
 * reader that finds ids missing after its last one (pruned before it read them) invalidates every topic.
 * A port starts after the newest row: it does not replay what was published before it existed.
 */
export class SqliteInvalidationPort implements InvalidationPort {
  readonly #db: SqliteDatabase;
  readonly #retainMs: number;
  readonly #now: () => number;
  readonly #log: InvalidationLog;
  readonly #local = new LocalSubscribers();
  readonly #timer: NodeJS.Timeout;
  #lastId: number;
  #dataVersion: number;
  #lastPrune = 0;
  #publishFailing = false;
  #pollFailing = false;

  constructor(db: SqliteDatabase, options: SqliteInvalidationOptions = {}) {
    this.#db = db;
    this.#retainMs = options.retainMs ?? 60_000;
    this.#now = options.now ?? Date.now;
    this.#log = options.log ?? SILENT_LOG;
    this.#dataVersion = this.#readDataVersion();
    this.#lastId = this.#readSequence();
    this.#timer = setInterval(() => this.poll(), options.pollMs ?? 150);
    this.#timer.unref(); // polling never keeps a process alive
  }

  async publish(topic: string, key?: string): Promise<void> {
    this.#local.deliver(topic, key);
    try {
      const now = this.#now();
      this.#db.transaction(() => {
        const { lastInsertRowid } = this.#db
          .stmt('INSERT INTO invalidations (topic, key, origin, at) VALUES (?, ?, ?, ?)')
          .run(topic, key ?? null, this.#local.origin, now);
        // Nothing unseen before our own row: move past it, or pruning it later would look like a gap.
        if (Number(lastInsertRowid) === this.#lastId + 1) this.#lastId++;
        if (now - this.#lastPrune >= PRUNE_EVERY_MS) {
          this.#db.stmt('DELETE FROM invalidations WHERE at < ?').run(now - this.#retainMs);
          this.#lastPrune = now;
        }
      });
      if (this.#publishFailing) {
        this.#publishFailing = false;
        this.#log.info({}, 'cache invalidations reach other processes again');
      }
    } catch (err) {
      // Never rejects (InvalidationPort): other processes keep their entry until its TTL.
      if (!this.#publishFailing) {
        this.#publishFailing = true;
        this.#log.warn({ err: String(err) }, 'cache invalidation not sent to other processes; they rely on the cache TTL');
      }
    }
  }

  subscribe(topic: string, handler: InvalidationHandler): () => void {
    return this.#local.subscribe(topic, handler);
  }

  /** The server calls this as each request arrives: one `PRAGMA data_version` when nobody wrote meanwhile. */
  sync(): void {
    this.poll();
  }

  /** Delivers what other processes published since the last poll (the timer calls it; tests may too). */
  poll(): void {
    try {
      const version = this.#readDataVersion();
      if (version === this.#dataVersion) return; // no other connection committed anything
      // One read transaction: the rows and the sequence from the same snapshot.
      const { rows, seq } = this.#db.db.transaction(() => ({
        rows: this.#db.stmt('SELECT id, topic, key, origin FROM invalidations WHERE id > ? ORDER BY id').all(this.#lastId) as Row[],
        seq: this.#readSequence(),
      }))();
      this.#dataVersion = version;
      // Ids are given out in commit order (one writer at a time) and never reused: a gap after the last id
      // seen means rows were pruned before this port read them.
      const first = rows[0]?.id ?? seq + 1;
      if (first !== this.#lastId + 1 && seq > this.#lastId) this.#local.deliverAll();
      for (const row of rows) {
        if (row.origin !== this.#local.origin) this.#local.deliver(row.topic, row.key ?? undefined);
      }
      this.#lastId = Math.max(seq, rows.at(-1)?.id ?? 0, this.#lastId);
      if (this.#pollFailing) {
        this.#pollFailing = false;
        this.#log.info({}, 'cache invalidations from other processes are read again');
      }
    } catch (err) {
      // What the others published is unknown: drop everything rather than serve it for a TTL.
      this.#local.deliverAll();
      if (!this.#pollFailing) {
        this.#pollFailing = true;
        this.#log.warn({ err: String(err) }, 'cannot read cache invalidations from other processes; every cache entry invalidated at each poll meanwhile');
      }
    }
  }

  close(): void {
    clearInterval(this.#timer);
  }

  /**
   * One compiled statement, run each time: PRAGMA data_version is read when the statement runs (SQLite reads the
   * header value in its program, not while compiling it), so a cached statement sees every other connection's
   * commit; db.pragma() compiled it anew on every call — every request (sync) — at twice the cost.
   */
  #readDataVersion(): number {
    return (this.#db.stmt('PRAGMA data_version').get() as { data_version: number }).data_version;
  }

  #readSequence(): number {
    const row = this.#db.stmt("SELECT seq FROM sqlite_sequence WHERE name = 'invalidations'").get() as { seq: number } | undefined;
    return row?.seq ?? 0;
  }
}
