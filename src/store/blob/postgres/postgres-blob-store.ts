import { randomUUID } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { PostgresDatabase } from '../../metadata/postgres/database.js';
import { assertBlobId, assertBlobRange, BlobNotFoundError, BlobRange, BlobStore, BlobWriter, finishedBody } from '../blob-store.js';

export interface PostgresBlobStoreOptions {
  /** Bytes per chunk row (default 1 MiB): what a write or a read holds in memory at most, per blob. */
  readonly chunkBytes?: number;
  /** A writer untouched for this long is taken for dead (its process or node gone) by sweepIncomplete (default 1 h). */
  readonly staleAfterMs?: number;
  /** How long a deleted blob's chunks stay for readers that already opened it (default 10 min). */
  readonly deletedGraceMs?: number;
  readonly now?: () => number;
}

const MiB = 1024 * 1024;
/** A writer refreshes its touched_at at most this often while it streams (see staleAfterMs). */
const TOUCH_EVERY_MS = 60_000;
/** Ids per page of list(). */
const LIST_PAGE = 1000;

/**
 * Blobs (sealed packages) as chunk rows in PostgreSQL (migrations/007-blobs.ts), so that any node can serve
 * any object. A write streams its chunks in as they fill (each INSERT awaited before the stream takes more:
 * backpressure, never the whole blob in memory) under a 'writing' row that no read, size or list sees; commit
 * publishes it with one UPDATE of that row. A ranged read fetches only the chunks the range covers, and only
 * their bytes in it (substring in the database), one at a time as the consumer pulls.
 *
 * Nothing a failed writer leaves is ever visible. What a dead one leaves (its process or node gone mid-write)
 * is removed by sweepIncomplete once untouched for staleAfterMs, unless it is one of this store's own live
 * writers; a chunk written after its upload was swept fails its foreign key, and its commit fails.
 *
 * delete() hides the blob at once and keeps its chunks for deletedGraceMs, so that readers that already opened
 * it finish (as an unlinked file's open descriptor does); delete and sweepIncomplete purge what is past it.
 */
export class PostgresBlobStore implements BlobStore {
  readonly #db: PostgresDatabase;
  readonly #chunkBytes: number;
  readonly #staleAfterMs: number;
  readonly #deletedGraceMs: number;
  readonly #now: () => number;
  /** This store's writers not yet committed or aborted: sweepIncomplete leaves them alone. */
  readonly #live = new Set<string>();

  constructor(db: PostgresDatabase, options: PostgresBlobStoreOptions = {}) {
    this.#db = db;
    this.#chunkBytes = options.chunkBytes ?? MiB;
    this.#staleAfterMs = options.staleAfterMs ?? 60 * 60_000;
    this.#deletedGraceMs = options.deletedGraceMs ?? 10 * 60_000;
    this.#now = options.now ?? Date.now;
    if (!Number.isSafeInteger(this.#chunkBytes) || this.#chunkBytes <= 0) throw new RangeError('chunkBytes must be a positive integer');
  }

  async create(): Promise<BlobWriter> {
    const id = randomUUID();
    const db = this.#db;
    const chunkBytes = this.#chunkBytes;
    const now = this.#now;
    await db.query("INSERT INTO blobs (id, state, size, chunk_bytes, touched_at) VALUES ($1, 'writing', 0, $2, $3)", [id, chunkBytes, now()]);
    this.#live.add(id);

    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let n = 0;
    let size = 0;
    let touched = now();
    const flush = async (data: Buffer) => {
      await db.query('INSERT INTO blob_chunks (blob_id, n, data) VALUES ($1, $2, $3)', [id, n, data]);
      n += 1;
      if (now() - touched >= TOUCH_EVERY_MS) {
        touched = now();
        await db.query("UPDATE blobs SET touched_at = $2 WHERE id = $1 AND state = 'writing'", [id, touched]);
      }
    };
    /** Writes every full chunk that is pending (and, at the end, the rest); keeps what does not fill one. */
    const flushFull = async (final: boolean) => {
      if (pendingBytes < chunkBytes && !(final && pendingBytes > 0)) return;
      // One copy of what is pending (a large write is cut in place, not copied once per chunk).
      const all = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      let off = 0;
      for (; all.length - off >= chunkBytes || (final && off < all.length); off += chunkBytes) {
        await flush(all.subarray(off, Math.min(off + chunkBytes, all.length)));
      }
      if (off < all.length) {
        pending = [all.subarray(off)];
        pendingBytes = all.length - off;
      }
    };
    const stream = new Writable({
      highWaterMark: chunkBytes,
      write(chunk: Buffer, _enc, done) {
        pending.push(chunk);
        pendingBytes += chunk.length;
        size += chunk.length;
        if (pendingBytes < chunkBytes) return done();
        flushFull(false).then(() => done(), done);
      },
      final(done) {
        flushFull(true).then(() => done(), done);
      },
    });
    let failure: Error | undefined;
    stream.on('error', (err) => (failure ??= err));

    const discard = async () => {
      this.#live.delete(id);
      pending = [];
      await db.query("DELETE FROM blobs WHERE id = $1 AND state = 'writing'", [id]);
    };
    let outcome: Promise<void> | undefined;
    let aborted: Promise<void> | undefined;
    return {
      id,
      stream,
      commit: () =>
        (outcome ??= (async () => {
          if (aborted) throw new Error('blob writer was aborted');
          try {
            await finishedBody(stream, () => failure);
            const res = await db.query("UPDATE blobs SET state = 'committed', size = $2, touched_at = $3 WHERE id = $1 AND state = 'writing'", [id, size, now()]);
            if (res.rowCount !== 1) throw new Error('blob writer was swept before it committed');
            this.#live.delete(id);
          } catch (e) {
            await discard().catch(() => undefined);
            throw e;
          }
        })()),
      abort: async () => {
        if (outcome) {
          // Committed (or committing): abort is a no-op after a successful commit.
          await outcome.catch(() => undefined);
          return;
        }
        aborted ??= (async () => {
          stream.on('error', () => undefined);
          stream.destroy();
          await discard();
        })();
        await aborted;
      },
    };
  }

  read(id: string, range?: BlobRange): Readable {
    assertBlobId(id);
    assertBlobRange(range);
    const db = this.#db;
    let plan: { next: number; end: number; chunkBytes: number } | undefined;
    /** The fetch of the piece after the one being pushed: started before the consumer asks for it. */
    let ahead: Promise<Buffer> | undefined;
    /** Fetches the piece of chunk that starts at plan.next (only the range's bytes cross the wire) and moves past it. */
    const fetchNext = (p: NonNullable<typeof plan>): Promise<Buffer> | undefined => {
      if (p.next >= p.end) return undefined;
      const at = p.next;
      const n = Math.floor(at / p.chunkBytes);
      const from = at - n * p.chunkBytes;
      const length = Math.min(p.chunkBytes - from, p.end - at);
      p.next += length;
      // substring is 1-based.
      const fetched = db.query<{ data: Buffer }>('SELECT substring(data from $3 for $4) AS data FROM blob_chunks WHERE blob_id = $1 AND n = $2', [id, n, from + 1, length]).then(({ rows }) => {
        const row = rows[0];
        // A chunk missing, or shorter than the recorded size says, is damage (or a read that outlived the
        // grace period of a delete): never handed out short.
        if (!row || row.data.length !== length) throw new Error(`blob ${id} is missing bytes at ${at}`);
        return row.data;
      });
      fetched.catch(() => undefined); // a fetch ahead that fails is reported when its piece is asked for
      return fetched;
    };
    return new Readable({
      // One chunk in the buffer and one being fetched: the database reads the next piece while the consumer
      // (the decrypting stream, the socket) takes this one — about two chunks of memory, whatever the size.
      highWaterMark: 1,
      read() {
        (async () => {
          if (!plan) {
            const row = (await db.query<{ size: string; chunk_bytes: number }>("SELECT size, chunk_bytes FROM blobs WHERE id = $1 AND state = 'committed'", [id])).rows[0];
            if (!row) throw new BlobNotFoundError(id);
            const size = Number(row.size);
            if (range && range.end >= size) throw new RangeError(`range ${range.start}-${range.end} reaches past the blob's ${size} bytes`);
            plan = { next: range?.start ?? 0, end: range ? range.end + 1 : size, chunkBytes: row.chunk_bytes };
          }
          const current = ahead ?? fetchNext(plan);
          if (!current) {
            this.push(null);
            return;
          }
          ahead = fetchNext(plan);
          this.push(await current);
        })().catch((e: Error) => this.destroy(e));
      },
    });
  }

  async size(id: string): Promise<number> {
    assertBlobId(id);
    const row = (await this.#db.query<{ size: string }>("SELECT size FROM blobs WHERE id = $1 AND state = 'committed'", [id])).rows[0];
    if (!row) throw new BlobNotFoundError(id);
    return Number(row.size);
  }

  async delete(id: string): Promise<void> {
    assertBlobId(id);
    await this.#db.query("UPDATE blobs SET state = 'deleted', touched_at = $2 WHERE id = $1 AND state = 'committed'", [id, this.#now()]);
    await this.#purgeDeleted();
  }

  async *list(): AsyncIterable<string> {
    // Paged by id (the nil UUID is no blob's: ids are version 4), so no query holds a huge result.
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const { rows } = await this.#db.query<{ id: string }>(`SELECT id FROM blobs WHERE state = 'committed' AND id > $1 ORDER BY id LIMIT ${LIST_PAGE}`, [after]);
      for (const r of rows) yield r.id;
      if (rows.length < LIST_PAGE) return;
      after = rows[rows.length - 1]!.id;
    }
  }

  /**
   * Removes the uploads of writers untouched for staleAfterMs (dead: another node's live writer touches its
   * row while it streams), except this store's own; purges deleted blobs past their grace period.
   */
  async sweepIncomplete(): Promise<number> {
    const { rows } = await this.#db.query(
      "DELETE FROM blobs WHERE state = 'writing' AND touched_at <= $1 AND NOT (id = ANY($2::uuid[])) RETURNING id",
      [this.#now() - this.#staleAfterMs, [...this.#live]],
    );
    await this.#purgeDeleted();
    return rows.length;
  }

  async #purgeDeleted(): Promise<void> {
    await this.#db.query("DELETE FROM blobs WHERE state = 'deleted' AND touched_at <= $1", [this.#now() - this.#deletedGraceMs]);
  }
}
